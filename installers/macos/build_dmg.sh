#!/usr/bin/env bash
# Builds dist/erp_desktop.dmg from the .app made by installers/erp_desktop.spec (run on macOS).
# Sign and notarise before shipping: codesign --deep --options runtime, then notarytool.
set -euo pipefail
cd "$(dirname "$0")/../.."
pyinstaller --noconfirm installers/erp_desktop.spec
hdiutil create -volname erp_desktop -srcfolder dist/erp_desktop.app -ov -format UDZO \
  dist/erp_desktop.dmg
