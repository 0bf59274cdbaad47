// Preloaded into the CLI (`node --import`) by test/integration/configReadOnce.test.ts: counts the reads of
// config.yaml files (fs.readFileSync of a path ending in /config.yaml, seen by ESM importers too through
// syncBuiltinESMExports) and appends the count to $STIGMER_COUNT_CONFIG_READS when the process exits.
import fs, { appendFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const out = process.env.STIGMER_COUNT_CONFIG_READS;
if (out) {
	let reads = 0;
	const original = fs.readFileSync;
	fs.readFileSync = function readFileSync(file, ...rest) {
		if (typeof file === 'string' && file.endsWith('/config.yaml')) reads += 1;
		return original.call(this, file, ...rest);
	};
	syncBuiltinESMExports();
	process.on('exit', () => appendFileSync(out, `${process.pid} ${reads}\n`));
}
