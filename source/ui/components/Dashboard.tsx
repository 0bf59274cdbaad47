// The dashboard's root: reads the store, lays the screen out for the terminal's size, maps keys to
// commands. It never talks to the engine: actions go through ServiceCommands.
import { Box, Text, useApp, useInput, useWindowSize } from 'ink';
import { useEffect } from 'react';
import type { ExecutionCommands } from '../../dashboard/executionActions.js';
import type { ServiceCommands } from '../../dashboard/serviceActions.js';
import type { DashboardStore } from '../../store/DashboardStore.js';
import { scrollAnchor } from '../../store/logView.js';
import { useDashboardState } from '../hooks/useDashboardState.js';
import { paneSource, useLogWindow } from '../hooks/useLogWindow.js';
import { useNow } from '../hooks/useNow.js';
import { uptimeRedrawInMs } from '../format.js';
import { type KeyEffect, keyEffect, splitKeys } from '../keyDispatch.js';
import { EngineBanner } from './EngineBanner.js';
import { ExecutionsTable, executionsTableHeight } from './ExecutionsTable.js';
import { Glyphs, mark } from './Glyphs.js';
import { HelpOverlay } from './HelpOverlay.js';
import { LogPane } from './LogPane.js';
import { ServicesTable } from './ServicesTable.js';
import { spinnerClock } from './Spinner.js';
import { StatusLine } from './StatusLine.js';
import { isActive } from '../../serviceStatus.js';

export interface DashboardProps {
	store: DashboardStore;
	commands: ServiceCommands;
	/** the executions view's actions (open, close, cancel); without them Enter and cancel do nothing */
	executions?: ExecutionCommands;
	/** the terminal's size; defaults to the real one (tests pass theirs) */
	size?: { columns: number; rows: number };
	title?: string;
	/** called when the user quits, before the app exits */
	onQuit?: () => void;
}

export function Dashboard({ store, commands, executions, size, title = 'stigmer dashboard', onQuit }: DashboardProps) {
	const terminal = useWindowSize();
	const columns = Math.max(20, size?.columns ?? terminal.columns);
	// One row short of the terminal: a frame of the exact height makes Ink clear the whole screen each time.
	// A tiny terminal gets a frame no taller than itself (a taller one scrolls the header away).
	const rows = Math.max(3, (size?.rows ?? terminal.rows) - 1);
	const state = useDashboardState(store);
	// the spinners move with the store's updates (one commit, one frame) rather than between them
	useEffect(() => store.subscribe(spinnerClock.nudge), [store]);
	const { exit, suspendTerminal } = useApp();

	const banner = state.engine.reachable === false ? 1 : 0;
	const showExecutions = state.view === 'executions';
	const tableWanted = showExecutions ? executionsTableHeight(state.executions, rows) : 1 + Math.max(1, state.services.length);
	// header, banner and status line first; then the table, the pane's rule and at least one log row when
	// they fit; in a few rows the table gets what is left and the pane none (no frame taller than the terminal)
	const middle = Math.max(0, rows - 1 - banner - 1);
	const logHeight = middle >= tableWanted + 2 ? middle - tableWanted - 1 : 0;
	const tableHeight = logHeight > 0 ? tableWanted : middle;
	const model = useLogWindow(paneSource(store, state), state, columns, logHeight);
	// the clock runs only for what the table on screen shows: uptimes of services, durations of running executions
	const clockStarts = showExecutions
		? state.executions.rows.filter((r) => r.status === 'running').map((r) => r.started_at)
		: state.services.filter((s) => s.startedAt && isActive(s.state)).map((s) => s.startedAt);
	const attached = state.handover?.phase === 'attached';
	const nowMs = useNow(clockStarts.length > 0 && !attached ? (now) => Math.min(...clockStarts.map((at) => uptimeRedrawInMs(at, now))) : null);

	// Carries out what a key means (keyDispatch decides that from the state alone). A new function each
	// render: it sees this render's pane window, which scrolling needs.
	const perform = (effect: KeyEffect): void => {
		const page = Math.max(1, logHeight - 1);
		switch (effect.type) {
			case 'none':
				return;
			case 'dispatch':
				store.dispatch(effect.action);
				return;
			case 'quit':
				onQuit?.();
				exit();
				return;
			case 'service':
				void commands.run(effect.kind, effect.name);
				return;
			case 'shell': {
				const container = store.getSnapshot().services.find((s) => s.kind === 'container');
				void commands.shell(container?.name ?? '', (inside) => suspendTerminal(inside));
				return;
			}
			case 'toggleFollow':
				store.dispatch({ type: 'follow/toggle', bottomSeq: model.window.bottomSeq });
				return;
			case 'scroll': {
				const delta = effect.to === 'pageUp' ? -page : effect.to === 'pageDown' ? page : -model.list.length;
				store.dispatch({ type: 'scroll/to', anchorSeq: scrollAnchor(model.list, model.window, delta) });
				return;
			}
			case 'openExecution':
				executions?.open(effect.id);
				return;
			case 'closeExecution':
				if (executions) executions.close();
				else store.dispatch({ type: 'executions/close' });
				return;
			case 'cancelExecution':
				if (executions) void executions.cancel(effect.id);
				else store.dispatch({ type: 'executions/confirmCancel', id: null });
				return;
		}
	};
	useInput(
		(input, key) => {
			for (const [one, oneKey] of splitKeys(input, key)) perform(keyEffect(store.getSnapshot(), one, oneKey));
		},
		// while the shell has the terminal Ink reads no key at all (it suspended its input) and discards its frames
		{ isActive: !attached },
	);

	const engineText = state.engine.reachable === true ? `engine ${state.engine.version ?? ''}`.trim() : state.engine.reachable === false ? 'engine unreachable' : 'connecting to the engine…';
	// the log pane's title rule, in stand-ins (see Glyphs) but for the filter, which is the user's text
	const detail = state.executions.detail;
	const detailRow = detail ? state.executions.rows.find((r) => r.id === detail.id) : undefined;
	const scopeText = model.service === null ? 'all services' : model.service;
	const followText = state.follow ? 'following' : model.window.atBottom ? 'paused' : `paused ${mark.down}${model.list.length - model.window.visibleTo}`;
	const flags = `${state.wrap ? ` ${mark.dot} wrap` : ''}${state.timestamps ? ` ${mark.dot} time` : ''} `;

	return (
		<Box flexDirection="column" width={columns} height={rows}>
			{/* title · engine · endpoint: the separators are stand-ins (see Glyphs); only the endpoint gives way on a narrow terminal */}
			<Box height={1} width={columns} overflow="hidden">
				<Box flexShrink={0}>
					<Text bold color="cyan">
						{title}
					</Text>
					<Glyphs dimColor>{` ${mark.dot} `}</Glyphs>
					<Text dimColor>{engineText}</Text>
					{state.llmForward ? <Glyphs dimColor>{` ${mark.dot} `}</Glyphs> : null}
					{state.llmForward ? (
						// the agent-runner's path to the host's LLM: red when its owner, the supervisor, is gone
						<Text
							color={state.llmForward.state === 'down' || state.llmForward.state === 'failed' ? 'red' : undefined}
							dimColor={state.llmForward.state !== 'down' && state.llmForward.state !== 'failed'}
						>
							{`LLM forward ${state.llmForward.state === 'forward' ? 'up' : state.llmForward.state}`}
						</Text>
					) : null}
					{state.engine.endpoint ? <Glyphs dimColor>{` ${mark.dot} `}</Glyphs> : null}
				</Box>
				{state.engine.endpoint ? (
					<Text dimColor wrap="truncate">
						{state.engine.remote ? `${state.engine.endpoint} (remote)` : state.engine.endpoint}
					</Text>
				) : null}
			</Box>
			{banner ? <EngineBanner engine={state.engine} width={columns} /> : null}
			{/* the help takes the table's and the pane's rows: every key fits a 24-row terminal */}
			{state.help ? (
				<HelpOverlay height={middle} width={columns} />
			) : (
				<>
					{/* cut at its height, its rows kept whole (not squeezed) */}
					<Box height={tableHeight} flexDirection="column" overflow="hidden" flexShrink={0}>
						<Box flexDirection="column" flexShrink={0}>
							{showExecutions ? (
								<ExecutionsTable view={state.executions} container={state.services.find((s) => s.kind === 'container')} height={Math.min(tableHeight, tableWanted)} width={columns} nowMs={nowMs} />
							) : (
								<ServicesTable services={state.services} resources={state.resources} actions={state.actions} selected={state.selected} width={columns} nowMs={nowMs} />
							)}
						</Box>
					</Box>
					<Box height={logHeight > 0 ? 1 : 0} width={columns} overflow="hidden">
						{detail ? (
							<>
								{/* the id and the agent's name are text of others: plain Text, not Glyphs */}
								<Glyphs dimColor>{`${mark.rule} execution `}</Glyphs>
								<Text dimColor>{`${detail.id} ${detailRow?.agent ?? ''}`.trimEnd()}</Text>
								<Glyphs
									dimColor
								>{` ${mark.dot} ${detailRow?.status ?? ''}${detail.error ? ' (stream lost)' : ''} ${mark.dot} ${followText} ${mark.dot} Esc back${state.filter.text ? ` ${mark.dot} filter ` : ''}`}</Glyphs>
							</>
						) : (
							<Glyphs dimColor>{`${mark.rule} logs: ${scopeText} ${mark.dot} ${followText}${state.filter.text ? ` ${mark.dot} filter ` : ''}`}</Glyphs>
						)}
						{state.filter.text ? <Text dimColor>{state.filter.text}</Text> : null}
						<Glyphs dimColor>{`${state.filter.text ? ` (${model.filterError ? 'invalid' : model.matchCount})` : ''}${flags}`}</Glyphs>
						<Box flexGrow={1} flexBasis={0} height={1} overflow="hidden">
							<Glyphs dimColor>{mark.rule.repeat(columns)}</Glyphs>
						</Box>
					</Box>
					{logHeight > 0 ? (
						<LogPane model={model} height={logHeight} width={columns} emptyText={state.filter.text ? 'no line matches the filter' : detail ? 'no events yet' : 'no log lines yet'} />
					) : null}
				</>
			)}
			<StatusLine state={state} matchCount={model.matchCount} {...(model.filterError ? { filterError: model.filterError } : {})} width={columns} />
		</Box>
	);
}
