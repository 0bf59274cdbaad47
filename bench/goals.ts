// Issue 23's goals, stated once: the benches print each beside its figure and judge by it
// (bench/dashboard.ts, dashboardMemory.ts, executions.ts, shellHandover.ts, cliStartup.ts), and
// bench/README.md points here. Change a goal here, nowhere else.
export const issue23 = {
	/** the idle dashboard's CPU, % of one core, and against `pm2 monit` in the same windows */
	idleCpuPercent: 0.3,
	idleCpuVsMonit: 0.25,
	/** the idle dashboard's RSS (and no more than `pm2 monit`'s in the same run) */
	idleRssMb: 85,
	/** a 5,000 lines/s flood: CPU, % of one core; RSS, flat */
	floodCpuPercent: 15,
	floodRssMb: 100,
	/** key → screen p95, idle and under the flood */
	keyP95IdleMs: 30,
	keyP95FloodMs: 50,
	/** the executions view with 20 running: CPU % and RSS */
	executionsCpuPercent: 15,
	executionsRssMb: 100,
	/** `e` → the shell's prompt (idle container; right after a restart: the restart's time plus this), exit → the dashboard */
	shellPromptMs: 300,
	shellExitMs: 200,
	/** `stigmer --help` and `server status` */
	helpMs: 80,
	statusMs: 150,
} as const;

/** "met" or "NOT met", as the benches' tables say it. */
export const verdict = (met: boolean): string => (met ? 'met' : 'NOT met');
