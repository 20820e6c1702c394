#!/usr/bin/env bash
# Builds a .deb from the PyInstaller bundle: `make deb` runs
#     packaging/linux/build-deb.sh dist/aldesk dist
#
# The package installs the bundle into /opt/aldesk with /usr/bin/aldesk linked to it, a desktop
# entry, icons in the hicolor theme, and the application/x-aldesk-project MIME type for
# *.aldesk files. Its Depends are the system libraries the bundle links against and does not
# carry itself (libc, the C++ runtime, OpenGL/EGL, xcb for the window), found with ldd and
# `dpkg -S` on the build machine, as dpkg-shlibdeps would; libc6 gets the newest glibc symbol
# version in use as its minimum. Build on the oldest distribution you install on.
set -euo pipefail

bundle=${1:?usage: build-deb.sh BUNDLE_DIR OUT_DIR}
out=${2:?usage: build-deb.sh BUNDLE_DIR OUT_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
resources=$root/resources
here=$root/packaging/linux

command -v dpkg-deb >/dev/null || { echo "build-deb.sh: dpkg-deb is needed (Debian/Ubuntu)" >&2; exit 2; }
[ -x "$bundle/aldesk" ] || { echo "build-deb.sh: no bundle at $bundle (run make bundle)" >&2; exit 2; }

version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$root/aldesk/__init__.py")
arch=$(dpkg --print-architecture)
stage=$root/build/deb/aldesk_${version}_${arch}
rm -rf "$stage"
mkdir -p "$stage/DEBIAN" "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" \
         "$stage/usr/share/mime/packages" "$stage/usr/share/doc/aldesk"

cp -a "$bundle" "$stage/opt/aldesk"
ln -s /opt/aldesk/aldesk "$stage/usr/bin/aldesk"
install -m 644 "$resources/aldesk.desktop" "$stage/usr/share/applications/aldesk.desktop"
install -m 644 "$resources/aldesk-mime.xml" "$stage/usr/share/mime/packages/aldesk.xml"
for png in "$resources"/icons/aldesk-*.png; do
    size=$(basename "$png" .png); size=${size#aldesk-}
    for kind in apps/aldesk mimetypes/application-x-aldesk-project; do
        install -D -m 644 "$png" "$stage/usr/share/icons/hicolor/${size}x${size}/$kind.png"
    done
done
install -D -m 644 "$resources/aldesk.svg" "$stage/usr/share/icons/hicolor/scalable/apps/aldesk.svg"
install -m 644 "$here/copyright" "$stage/usr/share/doc/aldesk/copyright"

# Depends: every library outside the bundle that a file inside it links against, by package.
mapfile -t libs < <(
    find "$stage/opt/aldesk" -type f \( -name '*.so*' -o -name aldesk \) -print0 |
    LD_LIBRARY_PATH="$stage/opt/aldesk/_internal" xargs -0 ldd 2>/dev/null |
    awk '$2 == "=>" && $3 ~ /^\// {print $3}' | grep -v "^$stage/" | sort -u)
packages=$(for lib in "${libs[@]}"; do dpkg -S "$(readlink -f "$lib")" 2>/dev/null ||
                                      dpkg -S "$lib" 2>/dev/null || true; done |
           cut -d: -f1 | sort -u | paste -sd, | sed 's/,/, /g')
[ -n "$packages" ] || { echo "build-deb.sh: found no library dependencies (ldd?)" >&2; exit 1; }
# The newest glibc symbol any file uses is the oldest libc6 the bundle runs on.
glibc=$(find "$stage/opt/aldesk" -type f \( -name '*.so*' -o -name aldesk \) -print0 |
        xargs -0 objdump -T 2>/dev/null | grep -o 'GLIBC_[0-9][0-9.]*' | cut -d_ -f2 |
        sort -uV | tail -1)
packages=$(echo "$packages" | sed "s/\blibc6\b/libc6 (>= $glibc)/")

size_kb=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size_kb/" \
    -e "s/@DEPENDS@/$packages/" "$here/control.in" > "$stage/DEBIAN/control"
install -m 755 "$here/postinst" "$here/postrm" "$stage/DEBIAN/"

mkdir -p "$out"
deb=$out/aldesk_${version}_${arch}.deb
dpkg-deb --root-owner-group "-Z${DEB_COMPRESS:-xz}" --build "$stage" "$deb" >/dev/null
echo "built $deb ($(du -h "$deb" | cut -f1); $((size_kb / 1024)) MiB installed)"
echo "Depends: $packages"
