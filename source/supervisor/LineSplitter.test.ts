import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineSplitter } from './LineSplitter.js';

function split(chunks: Array<string | Buffer>, maxBytes?: number): string[] {
	const lines: string[] = [];
	const splitter = new LineSplitter((line) => lines.push(line.toString('latin1')), maxBytes);
	for (const chunk of chunks) splitter.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
	splitter.flush();
	return lines;
}

test('lines split across chunks are joined', () => {
	assert.deepEqual(split(['hel', 'lo\nwor', 'ld\n', '\n']), ['hello', 'world', '']);
});

test('CRLF is a line end, a lone CR is kept', () => {
	assert.deepEqual(split(['a\r\nb\r', '\nc\rd\n']), ['a', 'b', 'c\rd']);
});

test('a last line without newline is flushed', () => {
	assert.deepEqual(split(['one\ntwo']), ['one', 'two']);
	assert.deepEqual(split(['one\n']), ['one']);
});

test('bytes are kept as they are', () => {
	const lines: Buffer[] = [];
	const splitter = new LineSplitter((line) => lines.push(line));
	splitter.push(Buffer.from([0xff, 0xfe, 0x0a, 0xc3]));
	splitter.push(Buffer.from([0xa9, 0x0a]));
	assert.deepEqual(lines, [Buffer.from([0xff, 0xfe]), Buffer.from([0xc3, 0xa9])]);
});

test('long lines are cut at the cap, a line of exactly the cap stays whole', () => {
	assert.deepEqual(split(['abcdefghij\n'], 4), ['abcd', 'efgh', 'ij']);
	assert.deepEqual(split(['abcd\n', 'efgh', '\n'], 4), ['abcd', 'efgh']);
	assert.deepEqual(split(['ab', 'cd', 'ef\n'], 4), ['abcd', 'ef']);
});
