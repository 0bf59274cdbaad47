// A node:test reporter beside the spec reporter (scripts/test.sh, test-engines.sh, test-remote.sh): at the
// end of a run, the wall time of each test file, slowest first, so a CI log shows where its time went
// (the spec reporter times tests, not files: a file's before/after hooks and its process start are in
// no test's time). A file's time runs from its dequeue (its process starts) to its completion.
//   node --test --test-reporter=spec --test-reporter-destination=stdout \
//     --test-reporter=./scripts/test-file-times.mjs --test-reporter-destination=stdout FILES...
// STIGMER_TEST_FILE_TIMES=N prints the N slowest (default 12; 0 prints none).
import path from 'node:path';

export default async function* fileTimes(source) {
	const started = new Map();
	const seconds = new Map();
	for await (const event of source) {
		const data = event.data;
		// a file is a test of the root named by its path as given (nesting 0; data.file is absolute). Only
		// dequeue and complete events are read: others at nesting 0 carry a file and no name (a file's
		// stderr, diagnostics), and a reporter that throws ends the whole test run
		if (event.type !== 'test:dequeue' && event.type !== 'test:complete') continue;
		if (typeof data?.file !== 'string' || typeof data.name !== 'string' || data.nesting !== 0 || path.resolve(data.name) !== data.file) continue;
		if (event.type === 'test:dequeue') started.set(data.file, Date.now());
		else if (event.type === 'test:complete') {
			const since = started.get(data.file);
			seconds.set(data.file, (since === undefined ? (data.details?.duration_ms ?? 0) : Date.now() - since) / 1000);
		}
	}
	const count = Number(process.env.STIGMER_TEST_FILE_TIMES ?? 12);
	if (!(count > 0) || seconds.size === 0) return;
	const slowest = [...seconds].sort((a, b) => b[1] - a[1]).slice(0, count);
	const total = [...seconds.values()].reduce((sum, s) => sum + s, 0);
	yield `files: the ${slowest.length} slowest of ${seconds.size} (wall seconds from a file's start to its end; ${Math.round(total)} s summed over all files)\n`;
	for (const [file, s] of slowest) yield `  ${s.toFixed(1).padStart(6)} s  ${path.relative(process.cwd(), file)}\n`;
}
