import { useEffect, useReducer } from 'react';

/**
 * The current time for uptimes. While `active`, it makes sure the screen is redrawn at least once a
 * second: the timer is re-armed after every render, so when stats already redraw the screen each
 * second the tick rarely fires, and with nothing running no timer runs at all.
 */
export function useNow(active: boolean, intervalMs = 1000): number {
	const [, tick] = useReducer((n: number) => n + 1, 0);
	const now = Date.now();
	useEffect(() => {
		if (!active) return;
		const timer = setTimeout(tick, intervalMs);
		return () => clearTimeout(timer);
	});
	return now;
}
