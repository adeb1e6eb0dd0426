#!/usr/bin/env bash
# Builds the inspector's wasm module into web/pkg/sstkit_inspector.wasm (not committed). Then serve web/ with any
# static file server, e.g. `python3 -m http.server -d web 8000`, and open http://localhost:8000/.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
# Size over speed, no debug info, symbols stripped: the module the page loads.
CARGO_PROFILE_RELEASE_OPT_LEVEL=s CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=true \
CARGO_PROFILE_RELEASE_LTO=true CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 CARGO_PROFILE_RELEASE_PANIC=abort \
  cargo build --release --target wasm32-unknown-unknown -p sstkit-inspector
mkdir -p web/pkg
cp target/wasm32-unknown-unknown/release/sstkit_inspector.wasm web/pkg/
echo "web/pkg/sstkit_inspector.wasm: $(wc -c < web/pkg/sstkit_inspector.wasm) bytes"
