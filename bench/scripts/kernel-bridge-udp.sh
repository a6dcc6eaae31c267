#!/usr/bin/env bash
# The Linux kernel bridging two network namespaces (veth pairs on a bridge in a third namespace, no route out of any),
# with iperf3 sending UDP as fast as it can from one to the other; prints the frames per second received for a frame
# size (Ethernet header included). The peer figure for NetGuestToGuestBenchmark. Needs root, iproute2 and iperf3.
# Usage: bench/scripts/kernel-bridge-udp.sh [FRAME_BYTES (64..1514, default 1514)] [SECONDS (default 5)]
set -euo pipefail

size=${1:-1514}
seconds=${2:-5}
if ! [[ "$size" =~ ^[0-9]+$ ]] || (( size < 64 || size > 1514 )); then
    echo "kernel-bridge-udp.sh: frame size '$size' (expected 64 to 1514)" >&2
    exit 2
fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || (( seconds < 1 || seconds > 600 )); then
    echo "kernel-bridge-udp.sh: seconds '$seconds' (expected 1 to 600)" >&2
    exit 2
fi
payload=$((size - 42))
suffix=$$
a=kb-a-$suffix b=kb-b-$suffix br=kb-br-$suffix
out=$(mktemp)
cleanup() { for n in "$a" "$b" "$br"; do ip netns del "$n" 2> /dev/null || true; done; rm -f "$out"; }
trap cleanup EXIT

for n in "$a" "$b" "$br"; do
    ip netns add "$n"
    ip -n "$n" link set lo up
done
ip -n "$br" link add br0 type bridge
ip -n "$br" link set br0 up
for side in a b; do
    ns=$a; [[ $side == b ]] && ns=$b
    ip link add "v$side" netns "$ns" type veth peer name "p$side" netns "$br"
    ip -n "$br" link set "p$side" master br0
    ip -n "$br" link set "p$side" up
done
ip -n "$a" addr add 198.18.1.1/24 dev va && ip -n "$a" link set va up
ip -n "$b" addr add 198.18.1.2/24 dev vb && ip -n "$b" link set vb up

ip netns exec "$b" iperf3 -s -1 -D > /dev/null 2>&1
sleep 0.5
ip netns exec "$a" iperf3 -c 198.18.1.2 -u -b 0 -l "$payload" -t "$seconds" -J 2> /dev/null | sed -n '/^{/,$p' > "$out"
python3 - "$out" "$size" << 'PY'
import json, sys
total = json.load(open(sys.argv[1]))["end"]["sum"]
size = int(sys.argv[2])
rate = (total["packets"] - total["lost_packets"]) / total["seconds"]
print("kernel bridge, %d B frames: %.0f frames/s received (%d sent, %d lost), %.2f Gbit/s of frames"
      % (size, rate, total["packets"], total["lost_packets"], rate * size * 8 / 1e9))
PY
