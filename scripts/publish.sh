#!/usr/bin/env bash
# Builds `parley` as one self-contained native executable (NativeAOT): no .NET runtime needed where it runs.
#
#   scripts/publish.sh [RID] [OUTPUT_DIR]      default RID linux-x64, default OUTPUT_DIR artifacts/parley-RID
#
# Other targets: pass their runtime identifier, e.g. linux-arm64, osx-arm64, osx-x64, win-x64. NativeAOT
# compiles for the operating system it runs on (build macOS binaries on macOS, Windows ones on Windows;
# linux-arm64 from linux-x64 needs the cross toolchain: clang, lld and an arm64 sysroot). It needs the
# native toolchain on the build machine: on Debian/Ubuntu `apt-get install clang zlib1g-dev`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RID="${1:-linux-x64}"
OUT="${2:-$ROOT/artifacts/parley-$RID}"

if [[ "$RID" == linux-* ]] && ! command -v clang >/dev/null 2>&1; then
  echo "publish.sh: NativeAOT needs clang (Debian/Ubuntu: apt-get install clang zlib1g-dev)" >&2
  exit 1
fi

# PackAsTool=false: the tool package is the portable build; this is the native one.
dotnet publish "$ROOT/src/Parley.Cli/Parley.Cli.csproj" -c Release -r "$RID" -o "$OUT" --nologo -v quiet \
  -p:PublishAot=true -p:PackAsTool=false -p:StripSymbols=true

EXE="$OUT/parley"
[[ "$RID" == win-* ]] && EXE="$OUT/parley.exe"
if [[ ! -f "$EXE" ]]; then
  echo "publish.sh: expected $EXE after publishing" >&2
  exit 1
fi
# One file to ship: drop the copy under the assembly's name and the library's build leftovers; keep the
# native symbols next to it as parley.dbg (for a debugger; not needed to run).
rm -f "$OUT/Parley.Cli" "$OUT/Parley.Cli.exe" "$OUT"/*.pdb "$OUT"/*.xml
[[ -f "$OUT/Parley.Cli.dbg" ]] && mv "$OUT/Parley.Cli.dbg" "$OUT/parley.dbg"
echo "$EXE ($(du -h "$EXE" | cut -f1))"
if [[ "$RID" == "$(dotnet --info | awk '/RID:/ {print $2; exit}')" ]]; then
  "$EXE" --version
fi
