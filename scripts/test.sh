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

report=$(mktemp -d)/vitest.json
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
vitest_rc=$?

node -e '
const fs = require("fs");
let passed = 0, failed = 0;
try {
  const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  passed = r.numPassedTests; failed = r.numFailedTests + (r.numRuntimeErrorTests ?? 0);
  for (const s of r.testResults) if (s.status === "failed" && s.assertionResults.length === 0) failed++;
} catch (e) { failed = 1; }
failed += Number(process.argv[2]);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
' "$report" "$failed_steps"
rc=$?
[ $vitest_rc -ne 0 ] && rc=1
exit $rc
