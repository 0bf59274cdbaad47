// `stigmer dashboard`: checks for a terminal, then loads the Ink app (React and Ink load only here).
import { statSync } from 'node:fs';
import { isSea } from 'node:sea';
import { UsageError } from '../errors.js';
import type { CommandContext } from './CommandContext.js';

export default async function dashboard(ctx: CommandContext): Promise<number> {
	if (!ctx.stdout.isTTY || !process.stdin.isTTY) {
		throw new UsageError('stigmer dashboard needs a terminal', 'run it in an interactive terminal; for scripts use `stigmer server status --json` and `stigmer server logs -f`');
	}
	if (ctx.stdout === process.stdout) reexecWithDashboardFlags();
	forgetDashboardMallocEnv();
	// React's development build costs several times the CPU per frame; set before React first loads
	process.env.NODE_ENV ??= 'production';
	const { createRealBackend, runDashboard } = await loadDashboardModules();
	const backend = await createRealBackend(ctx);
	return runDashboard({
		backend,
		stdout: ctx.stdout,
		stderr: ctx.stderr,
		color: ctx.color,
		...(process.env.STIGMER_DASHBOARD_STATS ? { statsFile: process.env.STIGMER_DASHBOARD_STATS } : {}),
	});
}

/**
 * The dashboard's modules: from the bundle `npm run build` makes (dist/dashboard.bundle.js), else
 * (running from the sources, STIGMER_DASHBOARD_UNBUNDLED=1 to compare, or a bundle older than this
 * file: a later `tsc` alone did not remake it) one by one.
 */
async function loadDashboardModules(): Promise<typeof import('./dashboardModules.js')> {
	const bundle = new URL('../dashboard.bundle.js', import.meta.url);
	if (!process.env.STIGMER_DASHBOARD_UNBUNDLED && bundleIsCurrent(bundle)) return (await import(bundle.href)) as typeof import('./dashboardModules.js');
	return import('./dashboardModules.js');
}

function bundleIsCurrent(bundle: URL): boolean {
	try {
		return statSync(bundle).mtimeMs >= statSync(new URL(import.meta.url)).mtimeMs;
	} catch {
		return false;
	}
}

/**
 * V8 flags for a process that mostly idles and sometimes swallows a log flood, each measured on the
 * real stack (bench/dashboard.ts):
 *   --no-turbofan: V8's top-tier compiler kept compiling and recompiling the dashboard's code on V8's
 *     worker threads while the stack was idle, 0.40 % of a core on those threads against 0.15 %
 *     without it, with the same CPU on the main thread (Maglev's code serves a frame every 2 s as fast).
 *   --max-semi-space-size=1: a 2 MB young generation. It was 8 (16 MB, kept from a flood's CPU); the
 *     16 MB were touched and kept at idle too. Two fixture dashboards side by side (one with each, same
 *     minute, A/A within 4 MB and 2 % CPU): idle RSS 117 → 98-101 MB for 24-28 % more of its small idle
 *     CPU (more scavenges); a 5,000 lines/s flood 117 → 110 MB for 19 % more CPU. The issue's goal is
 *     memory first (idle RSS at or under pm2 monit's), where the dashboard was behind and CPU ahead.
 *   --heap-growing-percent=25: old-generation collections before the old generation doubles. Without
 *     Turbofan's escape analysis a flood promotes more, and RSS climbed 120 → 182 MB in 30 s; with it,
 *     131 → 136 MB, for about 6 % of a core more during the flood.
 *   --optimize-for-size: V8's own trade of speed for memory (smaller heap growth, bytecode flushed
 *     sooner). Dashboards side by side with pm2 monit (bench/dashboardMemory.ts, 2 rounds, load 11-17,
 *     with MALLOC_ARENA_MAX=1 below): idle RSS 96.9 → 83.8 MB (old space and bytecode), flood RSS
 *     98-103 → 88-94 MB; its price: idle CPU 0.82 → 1.17 % of a core (+40 %), flood 14.7 → 15.7 %.
 *     The issue puts memory first, where the dashboard was behind pm2 monit (96.7 MB in that run);
 *     without this flag the idle RSS is 97 MB and MALLOC_ARENA_MAX=1 saves nothing.
 */
export const dashboardV8Flags = ['--no-turbofan', '--max-semi-space-size=1', '--heap-growing-percent=25', '--optimize-for-size'];

/**
 * And settings of glibc's malloc, read only at start-up, so given to the re-execution too:
 * - MALLOC_ARENA_MAX=1, one malloc arena for all threads instead of one per thread (V8's workers,
 *   libuv's pool). Same run as above: with --optimize-for-size idle RSS 90.1 → 83.8 MB (other anonymous
 *   memory 31.9 → 22.1 MB), flood 95-98 → 88-94 MB, idle CPU 1.26 → 1.17 %, flood 15.4 → 15.7 %;
 *   without that flag 97.7 → 96.9 MB, nothing.
 * - MALLOC_MMAP_THRESHOLD_=32768: blocks of 32 kB and more (V8's compiler zone segments, libuv's 64 kB
 *   read buffers) come from mmap and go back to the kernel when freed. By default glibc raises that
 *   threshold to the largest block freed so far, and then such blocks come from the brk heap, which
 *   gives back only its top: V8 mallocs ~10 MB at start-up and frees almost all of it (its
 *   peak_malloced_memory), and 6-9 MB of it stayed resident in holes, a different amount each run (idle
 *   RSS 80-91 MB between runs). malloc_trim(0) called in a running dashboard (gdb) took the brk heap
 *   12.9 → 6.0 MB. Side by side (bench/dashboardMemory.ts, 2 rounds, load 2.4-2.7): brk heap 14.4 → 6.3
 *   MB, idle RSS 86.2 → 80.4 MB (pm2 monit 96.4), flood 90→95 → 82→89 MB; idle CPU 0.68 → 0.65 % of a
 *   core, flood 10.7 → 10.5 %: no price. 16384 measured the same as 32768.
 * Not when the user set one; and taken out of process.env once running (forgetDashboardMallocEnv), so
 * that nothing the dashboard starts (a shell, a service) inherits them.
 */
export const dashboardMallocEnv = { MALLOC_ARENA_MAX: '1', MALLOC_MMAP_THRESHOLD_: '32768' };
const mallocEnvMark = 'STIGMER_DASHBOARD_MALLOC_ENV';

/** The flags this run uses: STIGMER_DASHBOARD_V8_FLAGS (space-separated, may be empty) replaces them, for benchmarks. */
function chosenV8Flags(): string[] {
	const override = process.env.STIGMER_DASHBOARD_V8_FLAGS;
	return override === undefined ? dashboardV8Flags : override.split(/\s+/).filter(Boolean);
}

/**
 * V8 reads these flags only at start-up (setting them later crashes it), so the dashboard executes
 * itself again with them, before anything is loaded or drawn: execve keeps the pid, the terminal, the
 * environment and the arguments. Where Node has no process.execve (Windows, Node < 22.15) it runs as is,
 * and so does the single executable (sea/seaLauncher.ts), whose arguments all go to the CLI, none to V8.
 */
function reexecWithDashboardFlags(): void {
	const flags = chosenV8Flags();
	if (typeof process.execve !== 'function' || flags.every((flag) => process.execArgv.includes(flag))) return;
	if (isSea()) return;
	const argv = [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)];
	const unset = Object.keys(dashboardMallocEnv).filter((name) => process.env[name] === undefined);
	const env = { ...process.env, ...Object.fromEntries(unset.map((name) => [name, dashboardMallocEnv[name as keyof typeof dashboardMallocEnv]])) };
	if (unset.length) env[mallocEnvMark] = unset.join(' ');
	process.execve(process.execPath, argv, env);
}

/** After the re-execution: the malloc settings it added leave process.env (malloc read them at start-up). */
function forgetDashboardMallocEnv(): void {
	for (const name of process.env[mallocEnvMark]?.split(' ') ?? []) delete process.env[name];
	delete process.env[mallocEnvMark];
}
