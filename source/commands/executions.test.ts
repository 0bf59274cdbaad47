import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Execution } from '../api/AgentRunnerClient.js';
import { describeExecution } from './executions.js';

test('executions show: what the agent wrote cannot drive the terminal', () => {
	const hostile = '\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\x1b[2Aok\rINFO forged\x1bPq\x1b\\';
	const execution: Execution = {
		id: 'ex-1',
		status: 'failed',
		agent: { name: `agent${hostile}`, instructions: 'x' },
		input: `input${hostile}`,
		files: [`file${hostile}`],
		result: `line one${hostile}\r\nline two\x07\n`,
		error: `error${hostile}`,
		created_at: '2026-01-01T00:00:00Z',
		started_at: null,
		finished_at: null,
	};
	const text = describeExecution(execution);
	assert.ok(!/[\x00-\x09\x0b-\x1f\x7f-\x9f]/.test(text), JSON.stringify(text));
	assert.match(text, /^input {4}inputok INFO forged$/m);
	assert.match(text, /^result:\n {2}line oneok\^MINFO forged\n {2}line two\^G\n$/m);
});
