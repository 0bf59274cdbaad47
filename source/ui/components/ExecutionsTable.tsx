// The agent-runner's executions, newest first: short id, agent, state (a spinner while running), steps
// so far, the tool being called, duration and start time. Only the page of rows that holds the
// selection is drawn, so 1,000 executions cost what 50 do. Rows are memoised on what they show: a
// batch of changes redraws the rows whose cells changed, the spinners tick on their own (Spinner.tsx).
// Above the rows, when the runner's stream is not live, one line says why and what to do.
import { Box, Text } from 'ink';
import { memo } from 'react';
import type { ExecutionSummary } from '../../api/AgentRunnerClient.js';
import type { ExecutionsView, RunnerFeedView } from '../../store/dashboardState.js';
import { executionsWindow } from '../../store/executionsReducer.js';
import type { ServiceStatus } from '../../serviceStatus.js';
import { fit, formatClock, formatUptime } from '../format.js';
import { Glyphs, mark } from './Glyphs.js';
import { Spinner } from './Spinner.js';

const statusColors: Record<string, string> = { queued: 'yellow', running: 'cyan', succeeded: 'green', failed: 'red', cancelled: 'magenta', interrupted: 'red' };

interface Column {
	title: string;
	width: number;
	align?: 'right';
}

const columns = {
	id: { title: 'ID', width: 10 },
	agent: { title: 'AGENT', width: 16 },
	state: { title: 'STATE', width: 13 },
	steps: { title: 'STEPS', width: 5, align: 'right' },
	tool: { title: 'TOOL', width: 16 },
	duration: { title: 'DURATION', width: 8, align: 'right' },
	started: { title: 'STARTED', width: 8 },
} satisfies Record<string, Column>;

/** The random part of `ex-<time>-<random>`: short, and unique enough to tell rows apart. */
export function shortId(id: string): string {
	return id.split('-').at(-1) ?? id;
}

/** Rows the table uses at most on a terminal of `rows` rows, header and notice included. */
export function executionsTableHeight(view: ExecutionsView, rows: number): number {
	const notice = view.runner.state === 'live' ? 0 : 1;
	const body = Math.min(Math.max(1, view.rows.length), Math.max(3, Math.floor((rows - 6) / 2)));
	return 1 + notice + body;
}

/** What the view says while the stream is not live, from the runner's problem and its container row. */
export function runnerNotice(runner: RunnerFeedView, container: ServiceStatus | undefined): { text: string; color: string } | null {
	if (runner.state === 'live') return null;
	if (runner.state === 'connecting') return { text: 'connecting to the agent-runner…', color: 'yellow' };
	const state = container?.state;
	if (runner.problem === 'no-token') return { text: `no API token yet: ${runner.message ?? 'start the stack (Tab, select agent-runner, s) or `stigmer server start`'}`, color: 'yellow' };
	if (runner.problem === 'unauthorized') return { text: 'the agent-runner refused the API token: restart it (Tab, select agent-runner, r)', color: 'red' };
	if (state === 'starting' || state === 'restarting' || (state === 'running' && container?.health === 'starting'))
		return { text: 'the agent-runner is starting… the list follows as soon as it answers', color: 'yellow' };
	if (state === 'unknown') return { text: 'the container engine does not answer: the agent-runner state is unknown (retrying)', color: 'yellow' };
	if (state !== undefined && state !== 'running') return { text: `the agent-runner is ${state}: start it (Tab, select agent-runner, s) or \`stigmer server start\``, color: 'yellow' };
	return { text: `the agent-runner does not answer (${runner.message ?? 'no answer'}); retrying`, color: 'yellow' };
}

export interface ExecutionsTableProps {
	view: ExecutionsView;
	container: ServiceStatus | undefined;
	/** rows for the table, header and notice included */
	height: number;
	width: number;
	nowMs: number;
}

export const ExecutionsTable = memo(function ExecutionsTable({ view, container, height, width, nowMs }: ExecutionsTableProps) {
	const notice = runnerNotice(view.runner, container);
	const bodyHeight = Math.max(1, height - 1 - (notice ? 1 : 0));
	const page = executionsWindow(view, bodyHeight);
	const toolWidth = Math.max(4, Math.min(40, width - 2 - 10 - 16 - 13 - 5 - 8 - 8 - 7));
	const header = `  ${fit(columns.id.title, columns.id.width)} ${fit(columns.agent.title, columns.agent.width)} ${fit(columns.state.title, columns.state.width)} ${fit(columns.steps.title, columns.steps.width, 'right')} ${fit(columns.tool.title, toolWidth)} ${fit(columns.duration.title, columns.duration.width, 'right')} ${columns.started.title}`;
	return (
		<Box flexDirection="column" height={height} width={width} overflow="hidden">
			<Text bold wrap="truncate">
				{header}
			</Text>
			{notice ? (
				<Text color={notice.color} wrap="truncate">
					{`  ${notice.text}`}
				</Text>
			) : null}
			{view.rows.length === 0 ? <Text dimColor>{view.runner.state === 'live' ? '  no executions yet: start one with `stigmer run AGENT_FILE PROMPT`' : '  no executions known yet'}</Text> : null}
			{page.rows.map((row) => (
				<ExecutionRow key={row.id} row={row} selected={row.id === view.selectedId} toolWidth={toolWidth} duration={duration(row, nowMs)} />
			))}
		</Box>
	);
});

function duration(row: ExecutionSummary, nowMs: number): string {
	if (!row.started_at) return '-';
	if (!row.finished_at) return formatUptime(row.started_at, nowMs);
	return formatUptime(row.started_at, Date.parse(row.finished_at));
}

/**
 * One cell: memoised on what it shows. A row re-renders when its steps, tool or duration change; its
 * other cells then keep their elements, and React leaves their Ink nodes alone (no props diff, no
 * update), where each cell's Text used to be updated on every batch.
 */
const Cell = memo(function Cell({ text, color, inverse, bold, dimColor }: { text: string; color?: string | undefined; inverse: boolean; bold?: boolean; dimColor?: boolean }) {
	return (
		<Text color={color} inverse={inverse} bold={bold} dimColor={dimColor}>
			{text}
		</Text>
	);
});

const Pointer = memo(function Pointer({ selected }: { selected: boolean }) {
	return <Glyphs inverse={selected}>{selected ? `${mark.pointer} ` : '  '}</Glyphs>;
});

/** One row; `row` is the same object as long as the execution does not change (executionsReducer), `duration` its text. */
const ExecutionRow = memo(function ExecutionRow({ row, selected, toolWidth, duration }: { row: ExecutionSummary; selected: boolean; toolWidth: number; duration: string }) {
	const running = row.status === 'running';
	const started = row.started_at ?? row.created_at;
	const color = statusColors[row.status];
	// each cell its own Text: the agent's and the tool's names are the user's text, never drawn through Glyphs
	return (
		<Box height={1}>
			<Pointer selected={selected} />
			<Cell inverse={selected} bold={selected} text={`${fit(shortId(row.id), columns.id.width)} `} />
			<Cell inverse={selected} text={`${fit(row.agent ?? '?', columns.agent.width)} `} />
			{/* mounted only while the execution runs: with no running row the spinners' clock stops */}
			{running ? (
				<Text color={color} inverse={selected}>
					<Spinner />{' '}
				</Text>
			) : null}
			<Cell color={color} inverse={selected} text={`${fit(row.status, columns.state.width - (running ? 2 : 0))} `} />
			<Cell inverse={selected} text={`${fit(String(row.steps), columns.steps.width, 'right')} `} />
			<Cell color="cyan" inverse={selected} text={`${fit(row.tool ?? (running ? '(model)' : '-'), toolWidth)} `} />
			<Cell inverse={selected} text={`${fit(duration, columns.duration.width, 'right')} `} />
			<Cell dimColor inverse={selected} text={fit(formatClock(Date.parse(started)).slice(0, 8), columns.started.width)} />
		</Box>
	);
});
