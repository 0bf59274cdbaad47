import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { NativeLogWriter } from './NativeLogWriter.js';

const record = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (stdout|stderr) (.*)$/;

test('writes timestamped records and rotates by renaming', (t) => {
	const dir = mkdtempSync(path.join(tmpdir(), 'stigmer-logwriter-'));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	const file = path.join(dir, 'svc.log');
	const writer = new NativeLogWriter(file, { rotateBytes: 200, keep: 3 });
	for (let i = 0; i < 40; i++) writer.write(i % 2 ? 'stderr' : 'stdout', [Buffer.from(`line ${i}`)]);
	writer.close();
	const files = [`${file}.3`, `${file}.2`, `${file}.1`, file].filter((f) => existsSync(f));
	assert.equal(files.length, 4);
	assert.equal(existsSync(`${file}.4`), false);
	const lines = files.flatMap((f) => readFileSync(f, 'utf8').trimEnd().split('\n'));
	for (const f of files) assert.ok(readFileSync(f).length <= 200);
	const parsed = lines.map((line) => record.exec(line)!);
	assert.ok(parsed.every(Boolean));
	const numbers = parsed.map((m) => Number(m[3]!.split(' ')[1]));
	assert.deepEqual(
		numbers,
		numbers.map((_, i) => 40 - numbers.length + i),
	); // the newest, in order
	const times = parsed.map((m) => m[1]!);
	assert.deepEqual([...times].sort(), times);
	assert.equal(parsed[0]![2], numbers[0]! % 2 ? 'stderr' : 'stdout');
});
