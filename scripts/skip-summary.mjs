// A node:test reporter that adds, after the spec reporter's summary, the tests that were skipped
// and why, grouped by reason: a test that needs a system program this machine lacks (chromium,
// haproxy, ...) is skipped with the Debian package that provides it, and this says so in the
// run's last lines. CI sets SOCKET_STEPS_REQUIRE_TOOLS=1, where such a test fails instead.
export default async function* skipSummary(source) {
  const byReason = new Map();
  let count = 0;
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { skip, name, file } = event.data;
    if (skip === undefined || skip === false) continue;
    count += 1;
    const reason = typeof skip === 'string' && skip !== '' ? skip : 'no reason given';
    const where = file ? `${file.replace(/^.*\/dist\/test\//, 'test/').replace(/\.js$/, '.ts')}: ` : '';
    if (!byReason.has(reason)) byReason.set(reason, []);
    byReason.get(reason).push(`${where}${name}`);
  }
  if (count === 0) return;
  yield `\nskipped ${count} test${count === 1 ? '' : 's'}:\n`;
  for (const [reason, tests] of byReason) {
    yield `  ${reason} (${tests.length}):\n`;
    for (const test of tests) yield `    - ${test}\n`;
  }
}
