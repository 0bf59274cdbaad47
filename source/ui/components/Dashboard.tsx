// The dashboard's root: reads the store, lays the screen out for the terminal's size, maps keys to
// commands. It never talks to the engine: actions go through ServiceCommands.
import { Box, Text, type Key, useApp, useInput, useWindowSize } from 'ink';
import { useMemo, useRef } from 'react';
import type { ServiceCommands } from '../../dashboard/serviceActions.js';
import type { DashboardStore } from '../../store/DashboardStore.js';
import { scrollAnchor } from '../../store/logView.js';
import { useDashboardState } from '../hooks/useDashboardState.js';
import { useLogWindow } from '../hooks/useLogWindow.js';
import { useNow } from '../hooks/useNow.js';
import { Command, commandFor } from '../keyBindings.js';
import { EngineBanner } from './EngineBanner.js';
import { Glyphs, mark } from './Glyphs.js';
import { HelpOverlay } from './HelpOverlay.js';
import { LogPane } from './LogPane.js';
import { ServicesTable } from './ServicesTable.js';
import { StatusLine } from './StatusLine.js';

export interface DashboardProps {
	store: DashboardStore;
	commands: ServiceCommands;
	/** the terminal's size; defaults to the real one (tests pass theirs) */
	size?: { columns: number; rows: number };
	title?: string;
	/** called when the user quits, before the app exits */
	onQuit?: () => void;
}

export function Dashboard({ store, commands, size, title = 'stigmer dashboard', onQuit }: DashboardProps) {
	const terminal = useWindowSize();
	const columns = Math.max(20, size?.columns ?? terminal.columns);
	// One row short of the terminal: a frame of the exact height makes Ink clear the whole screen each time.
	const rows = Math.max(8, (size?.rows ?? terminal.rows) - 1);
	const state = useDashboardState(store);
	const { exit, suspendTerminal } = useApp();

	const banner = state.engine.reachable === false ? 1 : 0;
	const tableHeight = 1 + Math.max(1, state.services.length);
	const logHeight = Math.max(1, rows - 1 - banner - tableHeight - 1 - 1);
	const model = useLogWindow(store.logs, state, columns, logHeight);
	const anyUptime = state.services.some((s) => s.startedAt && (s.state === 'running' || s.state === 'starting' || s.state === 'restarting'));
	const nowMs = useNow(anyUptime && !state.suspended);
	// the key handler stays the same function across renders; it reads the latest view from here
	const view = useRef({ model, logHeight });
	view.current = { model, logHeight };

	const onKey = useMemo(() => {
		function handle(input: string, key: Key): void {
			const current = store.getSnapshot();
			if (current.suspended) return;
			if (current.filter.editing) {
				if (key.escape) store.dispatch({ type: 'filter/cancel' });
				else if (key.return) store.dispatch({ type: 'filter/apply' });
				else if (key.backspace || key.delete) store.dispatch({ type: 'filter/input', text: current.filter.text.slice(0, -1) });
				else if (key.ctrl && input === 'c') {
					onQuit?.();
					exit();
				}
				else if (key.ctrl && input === 'u') store.dispatch({ type: 'filter/input', text: '' });
				else if (input && !key.ctrl && !key.meta && !/[\x00-\x1f]/.test(input)) store.dispatch({ type: 'filter/input', text: current.filter.text + input });
				return;
			}
			const command = commandFor(input, key);
			if (current.help && command !== Command.Quit) {
				store.dispatch({ type: 'help/toggle' });
				return;
			}
			const selected = current.selected;
			const { model, logHeight } = view.current;
			const page = Math.max(1, logHeight - 1);
			switch (command) {
				case Command.Quit:
					onQuit?.();
					exit();
					return;
				case Command.SelectUp:
					store.dispatch({ type: 'select/move', delta: -1 });
					return;
				case Command.SelectDown:
					store.dispatch({ type: 'select/move', delta: 1 });
					return;
				case Command.Start:
				case Command.Stop:
				case Command.Restart:
					if (selected) void commands.run(command === Command.Start ? 'start' : command === Command.Stop ? 'stop' : 'restart', selected);
					return;
				case Command.Shell: {
					const container = current.services.find((s) => s.kind === 'container');
					void commands.shell(container?.name ?? '', (inside) => suspendTerminal(inside));
					return;
				}
				case Command.ToggleLogScope:
					store.dispatch({ type: 'logs/toggleScope' });
					return;
				case Command.ToggleFollow:
					store.dispatch({ type: 'follow/toggle', bottomSeq: model.window.bottomSeq });
					return;
				case Command.PageUp:
					store.dispatch({ type: 'scroll/to', anchorSeq: scrollAnchor(model.list, model.window, -page) });
					return;
				case Command.PageDown:
					store.dispatch({ type: 'scroll/to', anchorSeq: scrollAnchor(model.list, model.window, page) });
					return;
				case Command.ScrollTop:
					store.dispatch({ type: 'scroll/to', anchorSeq: scrollAnchor(model.list, model.window, -model.list.length) });
					return;
				case Command.ScrollBottom:
					store.dispatch({ type: 'scroll/to', anchorSeq: null });
					return;
				case Command.Filter:
					store.dispatch({ type: 'filter/open' });
					return;
				case Command.ClearFilter:
					if (current.filter.text) store.dispatch({ type: 'filter/cancel' });
					return;
				case Command.ToggleTimestamps:
					store.dispatch({ type: 'timestamps/toggle' });
					return;
				case Command.ToggleWrap:
					store.dispatch({ type: 'wrap/toggle' });
					return;
				case Command.Help:
					store.dispatch({ type: 'help/toggle' });
					return;
				case null:
					return;
			}
		}
		return (input: string, key: Key) => {
			// keys typed faster than a frame (or sent by tmux) arrive as one string: one command each
			if (input.length > 1 && !key.ctrl && !key.meta && !input.startsWith('\x1b')) {
				for (const char of input) handle(char, singleKey(char, key));
			} else handle(input, key);
		};
	}, [store, commands, exit, suspendTerminal, onQuit]);
	useInput(onKey, { isActive: !state.suspended });

	if (state.suspended) return null;

	const engineText =
		state.engine.reachable === true
			? `engine ${state.engine.version ?? ''}`.trim()
			: state.engine.reachable === false
				? 'engine unreachable'
				: 'connecting to the engine…';
	// the log pane's title rule, in stand-ins (see Glyphs) but for the filter, which is the user's text
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
					{state.engine.endpoint ? <Glyphs dimColor>{` ${mark.dot} `}</Glyphs> : null}
				</Box>
				{state.engine.endpoint ? (
					<Text dimColor wrap="truncate">
						{state.engine.endpoint}
					</Text>
				) : null}
			</Box>
			{banner ? <EngineBanner engine={state.engine} width={columns} /> : null}
			<ServicesTable services={state.services} resources={state.resources} actions={state.actions} selected={state.selected} width={columns} nowMs={nowMs} />
			<Box height={1} width={columns} overflow="hidden">
				<Glyphs dimColor>{`${mark.rule} logs: ${scopeText} ${mark.dot} ${followText}${state.filter.text ? ` ${mark.dot} filter ` : ''}`}</Glyphs>
				{state.filter.text ? <Text dimColor>{state.filter.text}</Text> : null}
				<Glyphs dimColor>{`${state.filter.text ? ` (${model.filterError ? 'invalid' : model.matchCount})` : ''}${flags}`}</Glyphs>
				<Box flexGrow={1} flexBasis={0} height={1} overflow="hidden">
					<Glyphs dimColor>{mark.rule.repeat(columns)}</Glyphs>
				</Box>
			</Box>
			{state.help ? (
				<HelpOverlay height={logHeight} />
			) : (
				<LogPane model={model} height={logHeight} width={columns} emptyText={state.filter.text ? 'no line matches the filter' : 'no log lines yet'} />
			)}
			<StatusLine state={state} matchCount={model.matchCount} {...(model.filterError ? { filterError: model.filterError } : {})} width={columns} />
		</Box>
	);
}

/** The Key of one character out of a chunk of several. */
function singleKey(char: string, chunk: Key): Key {
	return { ...chunk, return: char === '\r' || char === '\n', backspace: char === '\x7f' || char === '\b', tab: char === '\t', escape: false };
}
