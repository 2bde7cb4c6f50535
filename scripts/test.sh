#!/usr/bin/env bash
# The one test command (README, .ci/run): set-up, type check, every vitest suite, and a
# closing `N passed, N failed` line that CI reads.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
. scripts/gpu-env.sh

failed_steps=0
if ! npx tsc -p tsconfig.json --noEmit; then
  echo "type check failed" >&2
  failed_steps=$((failed_steps + 1))
fi

reports=$(mktemp -d)
vitest_rc=0
# One vitest config per environment: unit (Node), gpu (Node WebGPU + headless Chromium),
# e2e (the built extension in headless Chromium).
i=0
for cfg in vitest.config.ts tests/gpu/vitest.config.ts tests/e2e/vitest.config.ts; do
  [ -f "$cfg" ] || continue
  i=$((i + 1))
  echo "== vitest: $cfg" >&2
  npx vitest run -c "$cfg" --reporter=default --reporter=json --outputFile.json="$reports/$i.json" "$@" || vitest_rc=1
done

node -e '
const fs = require("fs");
const path = require("path");
let passed = 0, failed = 0;
const dir = process.argv[1];
for (const f of fs.readdirSync(dir)) {
  try {
    const r = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    // a test file that failed to load has no assertion results but counts as a failure
    for (const s of r.testResults) if (s.status === "failed" && s.assertionResults.length === 0) failed++;
  } catch (e) { failed++; }
}
failed += Number(process.argv[2]);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
' "$reports" "$failed_steps"
rc=$?
[ $vitest_rc -ne 0 ] && rc=1
exit $rc
