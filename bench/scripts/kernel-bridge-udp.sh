#!/usr/bin/env bash
# The Linux kernel bridging two network namespaces (veth pairs on a bridge in a third namespace, no route out of any)
# as NetGuestToGuestBenchmark's peer: trafgen (netsniff-ng) injects UDP frames of one size on A's veth as fast as it
# can, the kernel bridge forwards them, and B's veth counts what it receives. Prints frames per second received.
# Needs root, iproute2, netsniff-ng and python3.
# Usage: bench/scripts/kernel-bridge-udp.sh [FRAME_BYTES (64..1514, default 1514)] [SECONDS (1..600, default 5)]
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
suffix=$$
a=kb-a-$suffix b=kb-b-$suffix br=kb-br-$suffix
config=$(mktemp)
cleanup() { for n in "$a" "$b" "$br"; do ip netns del "$n" 2> /dev/null || true; done; rm -f "$config"; }
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
    ip -n "$ns" link set "v$side" up
done
ip -n "$b" addr add 198.18.1.2/24 dev vb
mac_b=$(ip -n "$b" -br link show vb | awk '{print $3}')
# Ethernet 14 + IPv4 20 + UDP 8 + payload = the frame size (without the FCS, as pvio's frames)
cat > "$config" << CFG
{ eth(da=$mac_b, sa=00:16:3e:00:00:a1), ipv4(sa=198.18.1.1, da=198.18.1.2), udp(sp=40000, dp=9), fill(0x5a, $((size - 42))) }
CFG
received() { ip -n "$b" -s -j link show vb | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'; }
before=$(received)
ip netns exec "$a" timeout "$seconds" trafgen --dev va --conf "$config" --cpus 1 -q > /dev/null 2>&1 || true
after=$(received)
python3 -c "
n = $after - $before
print('kernel bridge, $size B frames: %.0f frames/s received, %.2f Gbit/s of frames' % (n / $seconds, n / $seconds * $size * 8 / 1e9))"
