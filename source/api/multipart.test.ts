import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { test } from 'node:test';
import { buildMultipart, quoteParameter } from './multipart.js';

const dir = mkdtempSync(path.join(tmpdir(), 'stigmer-multipart-'));

test('exact encoding: headers, CRLFs, closing delimiter, declared length', async () => {
	const file = path.join(dir, 'a.txt');
	writeFileSync(file, 'line 1\nline 2\n');
	const body = buildMultipart(
		[
			{ name: 'execution', value: '{"input":"x"}', contentType: 'application/json' },
			{ name: 'files', file },
		],
		'BOUNDARY',
	);
	const bytes = await buffer(body.stream());
	assert.equal(
		bytes.toString('utf8'),
		'--BOUNDARY\r\nContent-Disposition: form-data; name="execution"\r\nContent-Type: application/json\r\n\r\n{"input":"x"}\r\n' +
			'--BOUNDARY\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\nContent-Type: application/octet-stream\r\n\r\nline 1\nline 2\n\r\n' +
			'--BOUNDARY--\r\n',
	);
	assert.equal(body.contentLength, bytes.length);
	assert.equal(body.contentType, 'multipart/form-data; boundary=BOUNDARY');
});

test('round trip through a standard multipart parser (undici), binary and odd names included', async () => {
	const binary = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256));
	const bin = path.join(dir, 'blob.bin');
	writeFileSync(bin, binary);
	const odd = path.join(dir, 'say "hi" ünïcode.md');
	writeFileSync(odd, '# title\r\n--not-a-boundary\r\n');
	const empty = path.join(dir, 'empty');
	writeFileSync(empty, '');
	const body = buildMultipart([
		{ name: 'execution', value: '{"a":1}' },
		{ name: 'files', file: bin },
		{ name: 'files', file: odd },
		{ name: 'files', file: empty },
	]);
	const bytes = await buffer(body.stream());
	assert.equal(body.contentLength, bytes.length);
	const form = await new Response(bytes, { headers: { 'content-type': body.contentType } }).formData();
	assert.equal(form.get('execution'), '{"a":1}');
	const files = form.getAll('files') as File[];
	assert.equal(files.length, 3);
	assert.deepEqual(Buffer.from(await files[0]!.arrayBuffer()), binary);
	assert.equal(files[1]!.name, 'say "hi" ünïcode.md');
	assert.equal(await files[1]!.text(), '# title\r\n--not-a-boundary\r\n');
	assert.equal(files[2]!.size, 0);
});

test('the stream can be made again (a retried request), and a file that changes size fails', async () => {
	const file = path.join(dir, 'changing.txt');
	writeFileSync(file, 'abc');
	const body = buildMultipart([{ name: 'files', file }]);
	const first = await buffer(body.stream());
	assert.deepEqual(await buffer(body.stream()), first);
	writeFileSync(file, 'abcdef');
	await assert.rejects(buffer(body.stream()), /grew while it was being uploaded/);
});

test('quoteParameter escapes quotes and line breaks', () => {
	assert.equal(quoteParameter('a"b\r\nc'), '"a%22b%0D%0Ac"');
});
