#!/usr/bin/env bash
# Builds dist/aldesk.app and a disk image on macOS 12+ (Apple silicon or Intel) with Python
# 3.11 and the Xcode command line tools. Not run in CI (it needs a Mac):
#
#     packaging/macos/build-dmg.sh
#
# 1. `make bundle`: the venv with the pinned dependencies and PyInstaller, then
#    packaging/aldesk.spec (the same spec as on Linux), which on macOS also makes aldesk.app
#    (Info.plist: the *.aldesk document type, the icon resources/aldesk.icns);
# 2. the self-test of the executable inside the .app;
# 3. optional signing: set CODESIGN_IDENTITY="Developer ID Application: ..." (notarize the dmg
#    afterwards with `xcrun notarytool submit --wait` and `xcrun stapler staple`);
# 4. dist/aldesk-VERSION-macos-ARCH.dmg with the .app and a link to /Applications.
#
# The icon: resources/aldesk.icns is committed (packaging/render_icons.py writes it with
# Pillow). To remake it with Apple's tools instead:
#     mkdir aldesk.iconset && for s in 16 32 128 256 512; do
#       sips -z $s $s resources/icons/aldesk-512.png --out aldesk.iconset/icon_${s}x${s}.png
#       sips -z $((s*2)) $((s*2)) resources/icons/aldesk-512.png --out aldesk.iconset/icon_${s}x${s}@2x.png
#     done && iconutil -c icns aldesk.iconset -o resources/aldesk.icns
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(uname)" = Darwin ] || { echo "build-dmg.sh runs on macOS only" >&2; exit 2; }

make bundle
app=dist/aldesk.app
"$app/Contents/MacOS/aldesk" --self-test

if [ -n "${CODESIGN_IDENTITY:-}" ]; then
    codesign --deep --force --options runtime --timestamp --sign "$CODESIGN_IDENTITY" "$app"
    codesign --verify --deep --strict "$app"
fi

version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' aldesk/__init__.py)
stage=build/dmg
rm -rf "$stage" && mkdir -p "$stage"
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
dmg=dist/aldesk-$version-macos-$(uname -m).dmg
rm -f "$dmg"
hdiutil create -volname "aldesk $version" -srcfolder "$stage" -ov -format UDZO "$dmg"
echo "built $dmg"
