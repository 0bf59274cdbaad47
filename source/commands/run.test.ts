// `stigmer run --file`: names the agent-runner would refuse (422) are refused before any upload, with
// the name shown escaped, never silently renamed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { checkUploads } from './run.ts';
import { UsageError } from '../errors.ts';

test('a file name holding a newline or another control character is refused with a clear error', (t) => {
	const dir = mkdtempSync(path.join(tmpdir(), 'stigmer-uploads-'));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	for (const name of ['bad\nname.txt', 'tab\there.txt', 'bell\x07.txt', 'del\x7f.txt']) {
		const file = path.join(dir, name);
		writeFileSync(file, 'x');
		assert.throws(
			() => checkUploads([file]),
			(error: unknown) => error instanceof UsageError && error.exitCode === 2 && /the file name holds a control character \(\\[ntx]/.test(error.message) && !error.message.includes('\n'),
			JSON.stringify(name),
		);
	}
	const plain = path.join(dir, 'plain name ü.txt');
	writeFileSync(plain, 'x');
	assert.deepEqual(checkUploads([plain]), [plain]);
});
