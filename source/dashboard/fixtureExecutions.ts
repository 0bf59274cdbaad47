// Canned executions for the UI's component tests (FixtureBackend): a
// list in every state and one execution's events as the runner sends them.
import type { EventStreamItem, ExecutionEvent, ExecutionFeedItem, ExecutionSummary } from '../api/AgentRunnerClient.js';
import type { ExecutionsBackend } from './executionActions.js';

const agents = ['code-reviewer', 'test-writer', 'doc-fixer', 'refactorer'];
const states: Array<Pick<ExecutionSummary, 'status' | 'steps' | 'tool' | 'error'>> = [
	{ status: 'running', steps: 3, tool: 'run_command', error: null },
	{ status: 'queued', steps: 0, tool: null, error: null },
	{ status: 'failed', steps: 2, tool: null, error: 'LLM request failed: 500 scripted failure' },
	{ status: 'succeeded', steps: 4, tool: null, error: null },
	{ status: 'cancelled', steps: 1, tool: null, error: 'cancelled' },
	{ status: 'interrupted', steps: 2, tool: null, error: 'the agent-runner stopped while this execution was running' },
];

/** `count` executions, newest first, one a minute; the newest runs. */
export function fixtureExecutions(nowMs = Date.now(), count = 6): ExecutionSummary[] {
	return Array.from({ length: count }, (_, i) => {
		const created = nowMs - i * 60_000 - 5000;
		const state = states[i % states.length]!;
		const started = state.status === 'queued' ? null : new Date(created + 200).toISOString();
		const finished = state.status === 'running' || state.status === 'queued' ? null : new Date(created + 200 + 1000 * (3 + (i % 50))).toISOString();
		return {
			id: `ex-${created.toString(16)}-${(0xa1b2c3d4e5 + i).toString(16)}`,
			agent: agents[i % agents.length]!,
			created_at: new Date(created).toISOString(),
			started_at: started,
			finished_at: finished,
			...state,
		};
	});
}

/** One execution's events: a model turn, two tool calls with their results, the answer. */
export function fixtureExecutionEvents(nowMs = Date.now()): ExecutionEvent[] {
	const at = (ms: number) => new Date(nowMs - 10_000 + ms).toISOString();
	const data: Array<[string, Record<string, unknown>]> = [
		['status', { status: 'queued', time: at(0) }],
		['status', { status: 'running', time: at(100) }],
		['model_turn', { step: 1, text: 'I will run the tests first.', time: at(900) }],
		['tool_call', { step: 1, id: 'call_1', name: 'run_command', arguments: { command: 'npm test -- --grep parser' }, time: at(1000) }],
		[
			'tool_result',
			{
				step: 1,
				id: 'call_1',
				name: 'run_command',
				ok: true,
				exit_code: 0,
				output: `exit code 0\nstdout:\n${Array.from({ length: 30 }, (_, i) => `ok ${i + 1} - parser case ${i + 1}`).join('\n')}\nstderr:\n`,
				time: at(3000),
			},
		],
		['tool_call', { step: 2, id: 'call_2', name: 'write_file', arguments: { path: 'NOTES.md', content: 'all 30 parser cases pass\n' }, time: at(4000) }],
		['tool_result', { step: 2, id: 'call_2', name: 'write_file', ok: true, output: 'wrote 25 bytes to NOTES.md', time: at(4100) }],
		['model_turn', { step: 3, text: 'All 30 parser tests pass; the notes are in NOTES.md.', time: at(5000) }],
		['final', { answer: 'All 30 parser tests pass; the notes are in NOTES.md.', time: at(5000) }],
		['status', { status: 'succeeded', result: 'All 30 parser tests pass; the notes are in NOTES.md.', time: at(5000) }],
	];
	return data.map(([type, d], i) => ({ id: i + 1, type, data: d }));
}

function untilAborted(signal: AbortSignal): Promise<void> {
	return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

/** The executions of the fixture, as the runner's streams would deliver them. */
export class FixtureExecutions implements ExecutionsBackend {
	readonly cancelled: string[] = [];

	constructor(private readonly rows: ExecutionSummary[] = fixtureExecutions()) {}

	async *feed(signal: AbortSignal): AsyncGenerator<ExecutionFeedItem> {
		yield { kind: 'live' };
		yield { kind: 'reset' };
		for (const summary of [...this.rows].reverse()) yield { kind: 'execution', summary };
		yield { kind: 'synced' };
		await untilAborted(signal);
	}

	async *events(_id: string, _signal: AbortSignal): AsyncGenerator<EventStreamItem> {
		for (const event of fixtureExecutionEvents()) yield { kind: 'event', event };
	}

	async cancel(id: string): Promise<void> {
		this.cancelled.push(id);
	}
}
