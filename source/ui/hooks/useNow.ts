import { useEffect, useState } from 'react';

/**
 * The current time, ticking every `intervalMs` only while `active` (an uptime is on screen), so an idle
 * dashboard with nothing running runs no timer at all.
 */
export function useNow(active: boolean, intervalMs = 1000): number {
	const [now, setNow] = useState(() => Date.now());
	useEffect(() => {
		if (!active) return;
		setNow(Date.now());
		const timer = setInterval(() => setNow(Date.now()), intervalMs);
		return () => clearInterval(timer);
	}, [active, intervalMs]);
	return now;
}
