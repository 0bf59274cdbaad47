import { Text } from 'ink';
import type { EngineView } from '../../store/dashboardState.js';

/** Shown while the container engine is gone; native rows stay live underneath. */
export function EngineBanner({ engine, width }: { engine: EngineView; width: number }) {
	const detail = engine.error ? ` (${engine.error})` : '';
	return (
		<Text backgroundColor="red" color="white" bold wrap="truncate">
			{` container engine unreachable — retrying${detail} · native services stay live `.padEnd(width)}
		</Text>
	);
}
