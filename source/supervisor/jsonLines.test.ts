import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { jsonLine, readJsonLines } from './jsonLines.ts';

test('JSON lines over a real socket: values split across writes, a character split in two, bad lines reported', async () => {
	const socketPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'stigmer-jsonl-')), 's');
	const values: unknown[] = [];
	const invalid: string[] = [];
	let done!: () => void;
	const received = new Promise<void>((resolve) => (done = resolve));
	const server = net.createServer((socket) => {
		readJsonLines(
			socket,
			(value) => {
				values.push(value);
				if ((value as { last?: boolean }).last) done();
			},
			(line) => invalid.push(line),
		);
	});
	await new Promise<void>((resolve) => server.listen(socketPath, resolve));
	const client = net.connect(socketPath);
	await new Promise((resolve) => client.once('connect', resolve));
	const text = Buffer.from(`${jsonLine({ a: 'é€' })}\n  \nnot json\r\n${jsonLine({ b: [1, 2] })}${jsonLine({ last: true })}`);
	// one byte at a time: every split, including inside 'é' and '€'
	for (let i = 0; i < text.length; i++) client.write(text.subarray(i, i + 1));
	await received;
	client.destroy();
	server.close();
	assert.deepEqual(values, [{ a: 'é€' }, { b: [1, 2] }, { last: true }]);
	assert.deepEqual(invalid, ['not json']);
});
