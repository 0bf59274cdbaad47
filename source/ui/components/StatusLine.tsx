// The bottom line: the filter prompt while typing one, else the last message (errors in red), and the
// keys that matter most.
import { Box, Text } from 'ink';
import type { DashboardState } from '../../store/dashboardState.js';
import { Glyphs, mark } from './Glyphs.js';

export interface StatusLineProps {
	state: DashboardState;
	matchCount: number;
	filterError?: string;
	width: number;
}

export function StatusLine({ state, matchCount, filterError, width }: StatusLineProps) {
	if (state.filter.editing) {
		return (
			<Box width={width}>
				<Text wrap="truncate">
					<Text color="cyan">/</Text>
					{state.filter.text}
					<Text inverse> </Text>
					{'  '}
					{filterError ? <Text color="red">{filterError}</Text> : <Text dimColor>{`${matchCount} match${matchCount === 1 ? '' : 'es'} · Enter keep · Esc clear`}</Text>}
				</Text>
			</Box>
		);
	}
	const handover = state.handover;
	if (handover) {
		// shown only while a shell opens: plain Text with its real glyphs (the Glyphs fast path is for every frame)
		const typed = handover.typed.length > 0 ? ` · ${handover.typed.length} key${handover.typed.length === 1 ? '' : 's'} kept for the shell` : '';
		const step = handover.waitingFor ? `waiting for ${handover.waitingFor}…` : 'starting it…';
		return (
			<Box width={width}>
				<Text wrap="truncate" color="cyan">{`opening a shell in ${handover.service}: ${step}${typed} · Esc cancels`}</Text>
			</Box>
		);
	}
	const confirming = state.executions.confirmCancel;
	if (confirming !== null) {
		const row = state.executions.rows.find((r) => r.id === confirming);
		return (
			<Box width={width}>
				<Text wrap="truncate" color="yellow">
					{`cancel execution ${confirming}${row?.agent ? ` (${row.agent})` : ''}? y cancels it, any other key keeps it running`}
				</Text>
			</Box>
		);
	}
	const progress = Object.entries(state.actions)
		.filter(([, a]) => a.progress)
		.map(([name, a]) => `${name}: ${a.progress}`)
		.join(' · ');
	// the longest hint that fits: the line never wraps, whatever the width
	const hints = [`? help ${mark.dot} Tab ${state.view === 'services' ? 'executions' : 'services'} ${mark.dot} q quit`, `? help ${mark.dot} q quit`, '? help', ''];
	const hint = hints.find((h) => h.length + 1 <= width) ?? '';
	const message = progress || state.status?.text || '';
	const color = progress ? 'cyan' : state.status?.kind === 'error' ? 'red' : undefined;
	const room = Math.max(0, width - hint.length - 1);
	return (
		<Box width={width} height={1} overflow="hidden">
			<Box width={room}>
				<Text wrap="truncate" color={color}>
					{message}
				</Text>
			</Box>
			<Glyphs dimColor> {hint}</Glyphs>
		</Box>
	);
}
