import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { cliCommand, makeTestHome, repoRoot } from '../test/helpers/cli.js';
import { TmuxTerminal } from '../test/helpers/TmuxTerminal.js';
import { measureCpu, median, rssMb } from './benchStats.js';
import { fixtureBenchOptions, killPm2, pm2ReferenceProblem, startFixtureStack, startPm2Fixture } from './fixtureStack.js';
import { issue23 as goal } from './goals.js';

const { values } = parseArgs({
	options: {
		...fixtureBenchOptions({ idleSeconds: '30' }),
		variant: { type: 'string', multiple: true, default: [] },
		rounds: { type: 'string', default: '1' },
	},
});
const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
const probe = path.join(repoRoot, 'bench', 'memoryProbe.mjs');

interface Variant {
	name: string;
	env: Record<string, string>;
}
const variants: Variant[] = (values.variant.length ? values.variant : ['built']).map((spec) => {
	const [name, ...pairs] = spec.split(/\s+/).filter(Boolean);
	const env = Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1).replaceAll('_', ' ')]));
	return { name: name!, env };
});

/**
 * RSS in MB by kind of mapping, from /proc/PID/smaps. WebAssembly's memory is a read-write mapping right
 * below the rest of its reservation (inaccessible, gigabytes): its RSS is the pages Yoga touched.
 */
function rssByMapping(pid: number): Record<string, number> {
	const exe = readlinkSync(`/proc/${pid}/exe`);
	const maps: Array<{ start: number; end: number; perms: string; name: string; rssKb: number }> = [];
	for (const line of readFileSync(`/proc/${pid}/smaps`, 'latin1').split('\n')) {
		const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
		if (head) maps.push({ start: Number.parseInt(head[1]!, 16), end: Number.parseInt(head[2]!, 16), perms: head[3]!, name: head[4]!, rssKb: 0 });
		const rss = /^Rss:\s+(\d+) kB/.exec(line);
		if (rss) maps.at(-1)!.rssKb = Number(rss[1]);
	}
	const kb: Record<string, number> = {};
	for (const [i, m] of maps.entries()) {
		const next = maps[i + 1];
		const wasm = !m.name && m.perms.startsWith('rw') && next && next.start === m.end && next.perms.startsWith('---') && next.end - next.start >= 2 ** 30;
		const kind =
			m.name === exe
				? 'node binary (file)'
				: m.name.startsWith('/')
					? 'other files'
					: m.name === '[heap]'
						? 'malloc brk heap'
						: m.name === '[stack]'
							? 'main stack'
							: wasm
								? 'wasm memory (touched)'
								: m.name
									? 'other named'
									: 'other anonymous';
		kb[kind] = (kb[kind] ?? 0) + m.rssKb;
	}
	return Object.fromEntries(Object.entries(kb).map(([k, v]) => [k, v / 1024]));
}

interface ProbeDump {
	memoryUsage: Record<string, number>;
	heap: Record<string, number>;
	spaces: Record<string, { size: number; used: number; physical: number }>;
	code: Record<string, number>;
	wasmMemoryBytes: number[];
}

async function probeDump(pid: number, file: string): Promise<ProbeDump | null> {
	rmSync(file, { force: true });
	process.kill(pid, 'SIGUSR2');
	for (let i = 0; i < 50; i++) {
		await sleep(100);
		try {
			return JSON.parse(readFileSync(file, 'utf8')) as ProbeDump;
		} catch {
			// not written yet
		}
	}
	return null;
}

const mb = (bytes: number) => bytes / 2 ** 20;

interface Figures {
	idleRss: number;
	idleCpu: number;
	floodRss: number[];
	floodCpu: number;
	mappings: Record<string, number>;
	v8: Record<string, number>;
}

async function round(scratch: string): Promise<Map<string, Figures>> {
	const home = await makeTestHome('stigmer-bench-mem-home-');
	const pm2Home = path.join(scratch, 'pm2');
	const terminals: TmuxTerminal[] = [];
	let pm2: string[] | null = null;
	try {
		await startFixtureStack(home, Number(values.rate));

		const subjects: Array<{ name: string; pid: number; probeFile: string }> = [];
		for (const [i, variant] of variants.entries()) {
			const terminal = new TmuxTerminal(`mem-${i}`, { columns: 120, rows: 40 });
			terminals.push(terminal);
			const probeFile = path.join(scratch, `probe-${i}.json`);
			const env = { NODE_OPTIONS: `--import=${probe}`, STIGMER_MEMORY_PROBE: probeFile, ...variant.env };
			const cli = variant.env.STIGMER_BENCH_CLI ? [process.execPath, variant.env.STIGMER_BENCH_CLI] : cliCommand();
			const command = ['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...cli, '--home', home.dir, 'dashboard'].map(quote).join(' ');
			terminal.start(`cd ${quote(repoRoot)} && ${command}`);
			subjects.push({ name: variant.name, pid: 0, probeFile });
		}
		if (!values['no-pm2']) {
			pm2 = await startPm2Fixture(pm2Home);
			const monit = new TmuxTerminal('mem-pm2', { columns: 120, rows: 40 });
			terminals.push(monit);
			const probeFile = path.join(scratch, 'probe-pm2.json');
			monit.start(`env PM2_HOME=${quote(pm2Home)} NODE_OPTIONS=${quote(`--import=${probe}`)} STIGMER_MEMORY_PROBE=${quote(probeFile)} ${pm2.map(quote).join(' ')} monit`);
			await monit.waitFor('pm2 monit', (s) => /fixture-web/.test(s));
			subjects.push({ name: 'pm2 monit', pid: monit.programPid(), probeFile });
		}
		for (const [i] of variants.entries()) {
			await terminals[i]!.waitFor('both rows running', (s) => /agent-runner\s+running/.test(s) && /fixture-web\s+running/.test(s), 90_000);
			subjects[i]!.pid = terminals[i]!.programPid();
		}
		await sleep(Number(values['settle-seconds']) * 1000);

		const idleCpu = await measureCpu(
			subjects.map((s) => [s.pid]),
			Number(values['idle-seconds']),
		);
		const broken = pm2 ? pm2ReferenceProblem(pm2, pm2Home) : null;
		if (broken) throw new Error(`the reference is broken, this round measures nothing: ${broken}`);
		const figures = new Map<string, Figures>();
		for (const [i, s] of subjects.entries()) {
			const dump = await probeDump(s.pid, s.probeFile);
			const v8: Record<string, number> = {};
			if (dump) {
				for (const [space, f] of Object.entries(dump.spaces)) v8[`v8 ${space} (physical)`] = mb(f.physical);
				v8['v8 heap total physical'] = mb(dump.heap.total_physical_size!);
				v8['v8 external'] = mb(dump.memoryUsage.external!);
				v8['v8 array buffers'] = mb(dump.memoryUsage.arrayBuffers!);
				v8['code + metadata'] = mb(dump.code.code_and_metadata_size! + dump.code.bytecode_and_metadata_size!);
				v8['bytecode + metadata'] = mb(dump.code.bytecode_and_metadata_size!);
				v8['wasm memory size'] = mb(dump.wasmMemoryBytes.reduce((a, b) => a + b, 0));
			}
			figures.set(s.name, { idleRss: rssMb(s.pid), idleCpu: idleCpu[i]!, floodRss: [], floodCpu: Number.NaN, mappings: rssByMapping(s.pid), v8 });
		}

		process.stderr.write(`flood: ${values.rate} lines/s for ${values['flood-seconds']} s…\n`);
		if ((await home.cli(['server', 'start'])).code !== 0) throw new Error('server start (flood) failed');
		await terminals[0]!.waitFor('flood lines on screen', (s) => /flood \d+ x/.test(s), 20_000);
		await sleep(2000);
		const dashboards = subjects.filter((s) => s.name !== 'pm2 monit');
		const cpuPromise = measureCpu(
			dashboards.map((s) => [s.pid]),
			Number(values['flood-seconds']),
		);
		for (let t = 0; t <= Number(values['flood-seconds']); t += 5) {
			for (const s of dashboards) figures.get(s.name)!.floodRss.push(rssMb(s.pid));
			await sleep(Math.min(5, Number(values['flood-seconds']) - t) * 1000);
		}
		const floodCpu = await cpuPromise;
		for (const [i, s] of dashboards.entries()) figures.get(s.name)!.floodCpu = floodCpu[i]!;
		await home.cli(['server', 'stop', 'flood']);
		return figures;
	} finally {
		for (const t of terminals) t.kill();
		if (pm2) killPm2(pm2, pm2Home);
		await home.cleanup();
		rmSync(home.dir, { recursive: true, force: true });
	}
}

async function main(): Promise<void> {
	const scratch = mkdtempSync(path.join(os.tmpdir(), 'stigmer-bench-mem-'));
	const rounds: Array<Map<string, Figures>> = [];
	const loads: string[] = [];
	try {
		for (let r = 0; r < Number(values.rounds); r++) {
			process.stderr.write(`round ${r + 1}/${values.rounds}…\n`);
			rounds.push(await round(scratch));
			loads.push(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!);
		}
	} finally {
		rmSync(scratch, { recursive: true, force: true });
	}
	const names = [...rounds[0]!.keys()];
	const med = (name: string, pick: (f: Figures) => number | undefined) => median(rounds.map((r) => pick(r.get(name)!)).filter((x): x is number => x !== undefined && Number.isFinite(x)));
	const cell = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
	const rowNames = [
		'idle RSS (MB)',
		'idle CPU (% of a core)',
		'flood RSS first → last (max) (MB)',
		'flood CPU (%)',
		...new Set(rounds.flatMap((r) => [...r.values()].flatMap((f) => Object.keys(f.mappings)))),
		...new Set(rounds.flatMap((r) => [...r.values()].flatMap((f) => Object.keys(f.v8)))),
	];
	const rows = rowNames.map((row) => [
		row,
		...names.map((name) => {
			if (row === 'idle RSS (MB)') return cell(med(name, (f) => f.idleRss));
			if (row === 'idle CPU (% of a core)')
				return cell(
					med(name, (f) => f.idleCpu),
					2,
				);
			if (row === 'flood CPU (%)') return cell(med(name, (f) => f.floodCpu));
			if (row.startsWith('flood RSS'))
				return rounds[0]!.get(name)!.floodRss.length
					? `${cell(
							med(name, (f) => f.floodRss[0]),
							0,
						)} → ${cell(
							med(name, (f) => f.floodRss.at(-1)),
							0,
						)} (${cell(
							med(name, (f) => Math.max(...f.floodRss)),
							0,
						)})`
					: '–';
			return cell(med(name, (f) => f.mappings[row] ?? f.v8[row]));
		}),
	]);
	const header = ['', ...names];
	const widths = header.map((_, i) => Math.max(header[i]!.length, ...rows.map((r) => r[i]!.length)));
	const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
	console.log(`\ndashboard memory, Node ${process.version}, ${os.cpus().length} CPUs, 120×40 tmux, ${rounds.length} round(s), median; load after each round ${loads.join(' ')}`);
	for (const v of variants)
		console.log(
			`  ${v.name}: ${
				Object.entries(v.env)
					.map(([k, val]) => `${k}=${quote(val)}`)
					.join(' ') || 'as built'
			}`,
		);
	console.log(line(header));
	console.log(line(widths.map((w) => '-'.repeat(w))));
	for (const r of rows) console.log(line(r));
	console.log(`goals (issue 23, bench/goals.ts): idle RSS ≤ ${goal.idleRssMb} MB and ≤ pm2 monit's; flood RSS ≤ ${goal.floodRssMb} MB, flat`);
}

await main();
