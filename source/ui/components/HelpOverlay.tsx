import { Box, Text } from 'ink';
import { helpLines } from '../keyBindings.js';

const keysWidth = 20;

/** Every key of the keymap (keyBindings), in two columns when one does not fit the pane. */
export function HelpOverlay({ height, width }: { height: number; width: number }) {
	const lines = helpLines();
	const room = Math.max(1, height - 2);
	const columns = lines.length > room ? 2 : 1;
	const perColumn = Math.ceil(lines.length / columns);
	const columnWidth = Math.floor((width - 2) / columns);
	const groups = Array.from({ length: columns }, (_, i) => lines.slice(i * perColumn, (i + 1) * perColumn).slice(0, room));
	return (
		<Box flexDirection="column" height={height} paddingLeft={2}>
			<Text bold>Keys</Text>
			<Box>
				{groups.map((group, i) => (
					// biome-ignore lint/suspicious/noArrayIndexKey: the columns are positions, recomputed only when the width changes
					<Box key={i} flexDirection="column" width={columnWidth}>
						{group.map(({ command, keys, text }) => (
							<Text key={command} wrap="truncate">
								<Text color="cyan">{keys.padEnd(keysWidth)}</Text>
								{text}
							</Text>
						))}
					</Box>
				))}
			</Box>
			<Text dimColor>any key closes this help</Text>
		</Box>
	);
}
