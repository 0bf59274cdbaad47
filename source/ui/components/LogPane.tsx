// The visible rows of the log pane: service prefix (all-services view), optional timestamp, the line;
// stderr in its own colour. Rows come from useLogWindow, so only what fits is rendered.
import { Box, Text } from 'ink';
import { memo } from 'react';
import type { LogRow } from '../../store/logView.js';
import { truncateCells } from '../../terminal/cellWidth.js';
import { fit, formatClock } from '../format.js';
import type { LogPaneModel } from '../hooks/useLogWindow.js';
import { Glyphs, mark } from './Glyphs.js';

const serviceColors = ['cyan', 'magenta', 'blue', 'yellow', 'green', 'white'];

export function serviceColor(name: string): string {
	let hash = 0;
	for (const char of name) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
	return serviceColors[hash % serviceColors.length]!;
}

export interface LogPaneProps {
	model: LogPaneModel;
	height: number;
	width: number;
	emptyText: string;
}

export const LogPane = memo(function LogPane({ model, height, width, emptyText }: LogPaneProps) {
	const rows = model.window.rows;
	const textWidth = Math.max(1, width - model.prefixWidth - model.timestampWidth);
	const blank = Math.max(0, height - Math.max(rows.length, 1));
	return (
		<Box flexDirection="column" height={height}>
			{rows.length === 0 ? <Text dimColor>{emptyText}</Text> : null}
			{rows.map((row, i) => (
				// biome-ignore lint/suspicious/noArrayIndexKey: a row is a place on the screen: keyed by its index, a row's elements (and Ink's layout nodes) are reused when new lines scroll in, instead of every row being unmounted and mounted again each frame of a flood
				<LogRowView key={i} row={row} model={model} textWidth={textWidth} />
			))}
			{blank > 0 ? <Box height={blank} /> : null}
		</Box>
	);
});

/**
 * The service's prefix, memoised on what it shows: as lines scroll through a row its prefix mostly stays
 * (one service's lines in a row), and React then leaves its Ink nodes alone instead of updating them.
 */
const Prefix = memo(function Prefix({ color, text }: { color: string; text: string }) {
	return <Glyphs color={color}>{text}</Glyphs>;
});

function LogRowView({ row, model, textWidth }: { row: LogRow; model: LogPaneModel; textWidth: number }) {
	const { entry } = row;
	// long lines are cut here, not by Ink, so a 100 kB line costs one slice; by cells, between graphemes
	const text = truncateCells(row.text, textWidth);
	// one Text per part: string-width measures each text node as a whole, so an ASCII line stays on its
	// fast path whatever the prefix holds (and the prefix's │ is a stand-in, see Glyphs)
	return (
		<Box height={1}>
			{model.timestampWidth > 0 ? <Text dimColor>{row.first ? `${formatClock(entry.timeMs)} ` : ' '.repeat(model.timestampWidth)}</Text> : null}
			{model.prefixWidth > 0 ? (
				<Prefix color={serviceColor(entry.service)} text={`${row.first ? fit(entry.service, model.prefixWidth - 3, 'left', mark.ellipsis) : ' '.repeat(model.prefixWidth - 3)} ${mark.bar} `} />
			) : null}
			{/* a box of the line's width, so the prefix is never squeezed */}
			<Box width={textWidth}>
				<Text wrap="truncate" color={entry.stream === 'stderr' ? 'red' : undefined}>
					{text}
				</Text>
			</Box>
		</Box>
	);
}
