import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogFormatter } from './LogFormatter.js';
import type { LogLine } from './LogLine.js';

const time = '2026-01-22T10:00:00.123456789Z';
const lines: LogLine[] = [
	{ service: 'agent-runner', stream: 'stdout', time, line: 'hello \x1b[31mred\x1b[0m' },
	{ service: 'web', stream: 'stderr', time, line: 'quote " and \\ and \t' },
];
const services = ['agent-runner', 'web'];

test('text: names padded to the longest selected one, ANSI stripped without colour', () => {
	const text = new LogFormatter({ json: false, timestamps: false, color: false, services }).formatBatch(lines);
	assert.equal(text, 'agent-runner | hello red\nweb          | quote " and \\ and \t\n');
});

test('timestamps after the separator', () => {
	const text = new LogFormatter({ json: false, timestamps: true, color: false, services }).formatBatch(lines);
	assert.equal(text.split('\n')[0], `agent-runner | ${time} hello red`);
});

test('colour: names coloured, ANSI in lines kept', () => {
	const text = new LogFormatter({ json: false, timestamps: false, color: true, services }).formatBatch(lines);
	assert.equal(text.split('\n')[0], '\x1b[36magent-runner\x1b[0m | hello \x1b[31mred\x1b[0m');
});

test('json: one valid object per line with exactly service, stream, time, line', () => {
	const text = new LogFormatter({ json: true, timestamps: true, color: false, services }).formatBatch(lines);
	const objects = text
		.trimEnd()
		.split('\n')
		.map((l) => JSON.parse(l));
	assert.deepEqual(objects, [
		{ service: 'agent-runner', stream: 'stdout', time, line: 'hello red' },
		{ service: 'web', stream: 'stderr', time, line: 'quote " and \\ and \t' },
	]);
});

test('hostile lines: only SGR survives with colour, nothing without; JSON stays lossless and terminal-safe', () => {
	const hostile: LogLine[] = [{ service: 'web', stream: 'stdout', time, line: '\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\x1b[1A\x1b[32mok\x1b[0m\rINFO forged' }];
	const plain = new LogFormatter({ json: false, timestamps: false, color: false, services }).formatBatch(hostile);
	assert.equal(plain, 'web          | ok^MINFO forged\n');
	const coloured = new LogFormatter({ json: false, timestamps: false, color: true, services }).formatBatch(hostile);
	assert.equal(coloured.replace(/^.*? \| /, ''), '\x1b[32mok\x1b[0m^MINFO forged\n');
	const json = new LogFormatter({ json: true, timestamps: false, color: true, services }).formatBatch(hostile);
	assert.equal(JSON.parse(json).line, hostile[0]!.line);
	assert.ok(!/[\x00-\x09\x0b-\x1f\x7f-\x9f]/.test(json));
});
