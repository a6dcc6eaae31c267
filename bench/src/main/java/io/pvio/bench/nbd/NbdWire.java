package io.pvio.bench.nbd;

/**
 * The NBD protocol's numbers (fixed newstyle negotiation, simple and structured replies), all big-endian on the wire.
 * <pre>
 * Server greeting (18 bytes)               Option request (16 + length)        Option reply (20 + length)
 *   0  u64 "NBDMAGIC"                        0  u64 "IHAVEOPT"                   0  u64 OPTION_REPLY_MAGIC
 *   8  u64 "IHAVEOPT"                        8  u32 option                       8  u32 option
 *  16  u16 handshake flags                  12  u32 length, then data           12  u32 reply type
 * Client flags: u32                                                             16  u32 length, then data
 *
 * Request (28 bytes, then data for WRITE)  Simple reply (16, then READ data)   Structured reply chunk (20 + length)
 *   0  u32 REQUEST_MAGIC                     0  u32 SIMPLE_REPLY_MAGIC           0  u32 STRUCTURED_REPLY_MAGIC
 *   4  u16 command flags                     4  u32 error                        4  u16 flags (DONE)
 *   6  u16 type                              8  u64 handle                       6  u16 type
 *   8  u64 handle                                                                8  u64 handle
 *  16  u64 offset                                                               16  u32 length, then payload
 *  24  u32 length
 * </pre>
 * OFFSET_DATA payload: u64 offset, then the data. ERROR payload: u32 error, u16 message length, message.
 */
public final class NbdWire
{
    /** "NBDMAGIC". */
    public static final long INIT_MAGIC = 0x4e42444d41474943L;
    /** "IHAVEOPT": the newstyle magic and every option request's. */
    public static final long OPTION_MAGIC = 0x49484156454f5054L;
    /** An option reply's magic. */
    public static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;
    /** A transmission request's magic. */
    public static final int REQUEST_MAGIC = 0x25609513;
    /** A simple reply's magic. */
    public static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    /** A structured reply chunk's magic. */
    public static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;

    /** Handshake flag: fixed newstyle. */
    public static final int FLAG_FIXED_NEWSTYLE = 1;
    /** Handshake flag: the 124 zero bytes after EXPORT_NAME may be left out. */
    public static final int FLAG_NO_ZEROES = 2;
    /** Client flag: fixed newstyle. */
    public static final int CLIENT_FIXED_NEWSTYLE = 1;
    /** Client flag: no zeroes. */
    public static final int CLIENT_NO_ZEROES = 2;

    /** Option: choose an export and end negotiation, with no way to report an error. */
    public static final int OPT_EXPORT_NAME = 1;
    /** Option: abort. */
    public static final int OPT_ABORT = 2;
    /** Option: list exports. */
    public static final int OPT_LIST = 3;
    /** Option: TLS. */
    public static final int OPT_STARTTLS = 5;
    /** Option: describe an export. */
    public static final int OPT_INFO = 6;
    /** Option: describe an export and enter transmission. */
    public static final int OPT_GO = 7;
    /** Option: structured replies. */
    public static final int OPT_STRUCTURED_REPLY = 8;

    /** Option reply: accepted. */
    public static final int REP_ACK = 1;
    /** Option reply: an export of a LIST. */
    public static final int REP_SERVER = 2;
    /** Option reply: an information item of INFO/GO. */
    public static final int REP_INFO = 3;
    /** Option error: unknown option. */
    public static final int REP_ERR_UNSUP = 0x80000001;
    /** Option error: forbidden by policy. */
    public static final int REP_ERR_POLICY = 0x80000002;
    /** Option error: malformed. */
    public static final int REP_ERR_INVALID = 0x80000003;
    /** Option error: no such export. */
    public static final int REP_ERR_UNKNOWN = 0x80000006;
    /** Option error: too big. */
    public static final int REP_ERR_TOO_BIG = 0x80000009;

    /** Information item: size and transmission flags. */
    public static final int INFO_EXPORT = 0;
    /** Information item: the export's name. */
    public static final int INFO_NAME = 1;
    /** Information item: a description. */
    public static final int INFO_DESCRIPTION = 2;
    /** Information item: minimum, preferred and maximum block sizes. */
    public static final int INFO_BLOCK_SIZE = 3;

    /** Transmission flag: always set. */
    public static final int TFLAG_HAS_FLAGS = 1;
    /** Transmission flag: read-only. */
    public static final int TFLAG_READ_ONLY = 1 << 1;
    /** Transmission flag: FLUSH. */
    public static final int TFLAG_SEND_FLUSH = 1 << 2;
    /** Transmission flag: FUA on writes. */
    public static final int TFLAG_SEND_FUA = 1 << 3;
    /** Transmission flag: TRIM. */
    public static final int TFLAG_SEND_TRIM = 1 << 5;
    /** Transmission flag: WRITE_ZEROES. */
    public static final int TFLAG_SEND_WRITE_ZEROES = 1 << 6;
    /** Transmission flag: the effects of FLUSH and FUA are visible across connections. */
    public static final int TFLAG_CAN_MULTI_CONN = 1 << 8;

    /** Command: read. */
    public static final int CMD_READ = 0;
    /** Command: write. */
    public static final int CMD_WRITE = 1;
    /** Command: disconnect. */
    public static final int CMD_DISC = 2;
    /** Command: flush. */
    public static final int CMD_FLUSH = 3;
    /** Command: trim. */
    public static final int CMD_TRIM = 4;
    /** Command: write zeroes. */
    public static final int CMD_WRITE_ZEROES = 6;

    /** Command flag: force unit access. */
    public static final int CMD_FLAG_FUA = 1;
    /** Command flag: do not punch a hole (WRITE_ZEROES). */
    public static final int CMD_FLAG_NO_HOLE = 1 << 1;

    /** Structured reply flag: the last chunk of a reply. */
    public static final int REPLY_FLAG_DONE = 1;
    /** Structured reply type: no payload. */
    public static final int REPLY_TYPE_NONE = 0;
    /** Structured reply type: data at an offset. */
    public static final int REPLY_TYPE_OFFSET_DATA = 1;
    /** Structured reply type: an error with a message. */
    public static final int REPLY_TYPE_ERROR = (1 << 15) + 1;

    /** Error: not permitted (a write to a read-only export). */
    public static final int EPERM = 1;
    /** Error: I/O error. */
    public static final int EIO = 5;
    /** Error: invalid request. */
    public static final int EINVAL = 22;
    /** Error: beyond the end of the export (writes). */
    public static final int ENOSPC = 28;
    /** Error: unsupported. */
    public static final int ENOTSUP = 95;
    /** Error: the server is shutting down. */
    public static final int ESHUTDOWN = 108;

    /** Bytes of the server's greeting. */
    public static final int GREETING_LENGTH = 18;
    /** Bytes of an option request's header. */
    public static final int OPTION_HEADER_LENGTH = 16;
    /** Bytes of a request's header. */
    public static final int REQUEST_HEADER_LENGTH = 28;
    /** Bytes of a simple reply's header. */
    public static final int SIMPLE_REPLY_LENGTH = 16;
    /** Bytes of a structured reply chunk's header. */
    public static final int STRUCTURED_HEADER_LENGTH = 20;
    /** Zero bytes after EXPORT_NAME's size and flags, without NO_ZEROES. */
    public static final int EXPORT_NAME_ZEROES = 124;
    /** Longest string the protocol allows (names, messages). */
    public static final int MAX_STRING_LENGTH = 4096;

    private NbdWire()
    {
    }
}
