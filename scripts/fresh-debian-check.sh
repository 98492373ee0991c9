#!/usr/bin/env bash
# Proves that a bare Debian 12 needs nothing but the README's two commands:
# debootstraps a minbase bookworm (Debian's debootstrap) into a folder,
# copies this checkout (tracked and untracked files, no build/ or caches)
# and ../shared in, brings the host's CA certificates, pip settings and apt
# sources / Acquire settings (networks with a TLS proxy or a snapshot mirror
# need them), then runs, as root inside a chroot with a clean environment,
#   scripts/demo.sh     then     scripts/test.sh
# and reports each one's time and exit status (logs beside the root).
#
#   scripts/fresh-debian-check.sh [ROOT]   (as root; ROOT defaults to
#                                           /tmp/qmlir-fresh-debian)
# The root is made anew on every run (delete it afterwards: ~6 GB).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
root=${1:-/tmp/qmlir-fresh-debian}
mirror=${QMLIR_DEBIAN_MIRROR:-http://deb.debian.org/debian}

case "$root" in
  /*/*) ;;
  *) echo "fresh-debian-check: ROOT must be an absolute path below / (it is deleted and made anew): '$root'" >&2
     exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
  echo "fresh-debian-check: run as root (debootstrap, chroot, mounts)" >&2
  exit 2
fi
if ! command -v debootstrap >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

unmount() {
  for m in dev/pts dev proc sys; do
    mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"
  done
  return 0
}
trap unmount EXIT
unmount
rm -rf "$root"
echo "fresh-debian-check: debootstrap --variant=minbase bookworm $root"
start=$(date +%s)
debootstrap --variant=minbase bookworm "$root" "$mirror" > "$root.debootstrap.log" 2>&1 ||
  { tail -n 20 "$root.debootstrap.log"; exit 1; }
echo "fresh-debian-check: debootstrap took $(( $(date +%s) - start )) s"

# What a machine on this network needs before anything else: the proxy's CA
# certificates (also in the bundle pip and Python read), pip's settings, the
# apt sources of a stock Debian 12 (with -updates and -security) or the
# host's mirror, and its Acquire settings.
mkdir -p "$root/usr/local/share/ca-certificates" "$root/etc/ssl/certs"
cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
[ -f /etc/pip.conf ] && cp /etc/pip.conf "$root/etc/pip.conf"
rm -f "$root/etc/apt/sources.list"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && cp "$f" "$root$f"
done
for f in /etc/apt/apt.conf.d/*; do
  grep -q '^Acquire' "$f" 2>/dev/null && cp "$f" "$root/etc/apt/apt.conf.d/"
done
cp /etc/resolv.conf "$root/etc/resolv.conf"

# The checkout as git sees it (no build outputs, no ignored caches), and the
# shared folder beside it.
mkdir -p "$root/work/main"
git ls-files -z --cached --others --exclude-standard |
  (cd "$repo" && tar --null -T - -cf -) | tar -C "$root/work/main" -xf -
[ -d ../shared ] && cp -a ../shared "$root/work/shared"

for m in proc sys dev dev/pts; do
  mkdir -p "$root/$m"
done
mount -t proc proc "$root/proc"
mount --bind /sys "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"

status=0
for cmd in scripts/demo.sh scripts/test.sh; do
  log="$root.$(basename "$cmd" .sh).log"
  echo "fresh-debian-check: $cmd (log: $log)"
  start=$(date +%s)
  rc=0
  chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    bash -c "cd /work/main && $cmd" > "$log" 2>&1 || rc=$?
  took=$(( $(date +%s) - start ))
  if [ $rc -eq 0 ]; then
    echo "fresh-debian-check: $cmd passed in ${took} s"
  else
    echo "fresh-debian-check: $cmd FAILED (exit $rc) after ${took} s; its last lines:"
    tail -n 30 "$log"
    status=1
  fi
  tail -n 8 "$log" | sed 's/^/    /'
done
exit $status
