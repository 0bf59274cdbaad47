import { Box, Text } from 'ink';
import { commandHelp } from '../keyBindings.js';

export function HelpOverlay({ height }: { height: number }) {
	return (
		<Box flexDirection="column" height={height} paddingLeft={2}>
			<Text bold>Keys</Text>
			{commandHelp.slice(0, Math.max(0, height - 2)).map(([command, keys, text]) => (
				<Text key={command} wrap="truncate">
					<Text color="cyan">{keys.padEnd(11)}</Text>
					{text}
				</Text>
			))}
			<Text dimColor>any key closes this help</Text>
		</Box>
	);
}
