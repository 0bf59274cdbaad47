import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExecutionPrinter, foldLines } from './ExecutionPrinter.js';

test('foldLines keeps head and tail with the count between', () => {
	const text = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n');
	assert.deepEqual(foldLines(text, { head: 2, tail: 2 }), ['line 1', 'line 2', '… 26 more lines', 'line 29', 'line 30']);
	assert.deepEqual(foldLines('a\nb\nc\n', { head: 1, tail: 1 }), ['a', 'b', 'c'], 'no fold that saves nothing');
	assert.deepEqual(foldLines('x'.repeat(12), { width: 10 }), ['xxxxxxxxxx… (2 more characters)']);
});

test('a run renders turns, calls with arguments, folded results, the answer once, the outcome', () => {
	let out = '';
	const printer = new ExecutionPrinter({ write: (t: string) => (out += t) }, false);
	const events = [
		{ id: 1, type: 'status', data: { status: 'queued', time: '2026-01-01T00:00:00.000Z' } },
		{ id: 2, type: 'status', data: { status: 'running', time: '2026-01-01T00:00:01.000Z' } },
		{ id: 3, type: 'model_turn', data: { step: 1, text: 'Looking.' } },
		{ id: 4, type: 'tool_call', data: { step: 1, id: 'c1', name: 'run_command', arguments: { command: 'seq 100' } } },
		{ id: 5, type: 'tool_result', data: { step: 1, id: 'c1', name: 'run_command', ok: true, exit_code: 0, timed_out: false, output: Array.from({ length: 100 }, (_, i) => String(i + 1)).join('\n') } },
		{ id: 6, type: 'tool_call', data: { step: 2, id: 'c2', name: 'read_file', arguments: { path: '../x' } } },
		{ id: 7, type: 'tool_result', data: { step: 2, id: 'c2', name: 'read_file', ok: false, output: 'error: path leaves the workspace' } },
		{ id: 8, type: 'model_turn', data: { step: 3, text: 'All done.' } },
		{ id: 9, type: 'final', data: { answer: 'All done.' } },
		{ id: 10, type: 'status', data: { status: 'succeeded', time: '2026-01-01T00:00:03.500Z' } },
	];
	for (const e of events) printer.event(e);
	printer.flush();
	assert.equal(
		out,
		[
			'· queued',
			'· running',
			'model (step 1) Looking.',
			'→ run_command command="seq 100"',
			'  ✓ exit 0',
			...['1', '2', '3', '4', '5', '6', '7', '8'].map((n) => `    ${n}`),
			'    … 88 more lines',
			...['97', '98', '99', '100'].map((n) => `    ${n}`),
			'→ read_file path="../x"',
			'  ✗ error: path leaves the workspace',
			'── answer ──',
			'All done.',
			'✓ succeeded in 2.5 s',
			'',
		].join('\n'),
	);
});

test('failure shows the reason; long string arguments are folded blocks', () => {
	let out = '';
	const printer = new ExecutionPrinter({ write: (t: string) => (out += t) }, false);
	printer.event({ id: 1, type: 'tool_call', data: { name: 'write_file', arguments: { path: 'a.md', content: 'l1\nl2' } } });
	printer.event({ id: 2, type: 'status', data: { status: 'failed', error: 'cannot reach the LLM' } });
	assert.equal(out, '→ write_file path="a.md"\n  content:\n  │ l1\n  │ l2\n✗ failed: cannot reach the LLM\n');
});

test("run_command's output shows stdout, and stderr only when there is some", () => {
	let out = '';
	const printer = new ExecutionPrinter({ write: (t: string) => (out += t) }, false);
	printer.event({ id: 1, type: 'tool_result', data: { ok: false, exit_code: 2, timed_out: false, output: 'exit code 2\nstdout:\nhello\n\nstderr:\noops\n' } });
	printer.event({ id: 2, type: 'tool_result', data: { ok: true, exit_code: 0, timed_out: false, output: 'exit code 0\nstdout:\n\nstderr:\n' } });
	assert.equal(out, '  ✗ exit 2\n    hello\n    stderr:\n    oops\n  ✓ exit 0\n');
});

test('an LLM retry shows the reason, which retry and the wait', () => {
	let out = '';
	const printer = new ExecutionPrinter({ write: (t: string) => (out += t) }, false);
	printer.event({ id: 1, type: 'llm_retry', data: { step: 1, attempt: 2, max_attempts: 5, reason: '429 Too Many Requests', delay_seconds: 2 } });
	printer.event({ id: 2, type: 'llm_retry', data: { step: 1, attempt: 3, max_attempts: 5, reason: 'timeout', delay_seconds: 3.25 } });
	assert.equal(out, '! LLM 429 Too Many Requests: retry 1 of 4 in 2.0 s\n! LLM timeout: retry 2 of 4 in 3.3 s\n');
});

test('what the agent wrote cannot drive the terminal: only SGR survives, with colour; CR and other controls are escaped', () => {
	for (const color of [false, true]) {
		let out = '';
		const printer = new ExecutionPrinter({ write: (t: string) => (out += t) }, color);
		const hostile = 'a\x1b]0;pwned\x07b\x1b]52;c;ZXZpbA==\x07\x1bPq\x1b\\\x1b[2A\rINFO forged';
		printer.event({ id: 1, type: 'tool_call', data: { name: 'run_command', arguments: { command: hostile } } });
		printer.event({ id: 2, type: 'tool_result', data: { ok: true, exit_code: 0, output: `exit code 0\nstdout:\n${hostile}\nstderr:\n` } });
		printer.event({ id: 3, type: 'model_turn', data: { text: hostile } });
		printer.event({ id: 4, type: 'final', data: { answer: hostile } });
		printer.event({ id: 5, type: 'status', data: { status: 'failed', error: `${hostile}\nsecond line` } });
		printer.flush();
		const withoutSgr = out.replace(/\x1b\[[0-9;]*m/g, '');
		assert.ok(!/[\x00-\x09\x0b-\x1f\x7f-\x9f]/.test(withoutSgr), JSON.stringify(out));
		assert.ok(color || !out.includes('\x1b'));
		assert.match(withoutSgr, /ab\^MINFO forged/);
		assert.match(withoutSgr, /\n {2}second line\n/);
	}
});
