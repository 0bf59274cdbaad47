// Issue 10, "Config": parsing a large config.yaml. Prints wall and CPU time of parseConfig for configs
// of N environment keys (CPU time is steadier than wall time on a shared machine), and what happens to a
// file over the size limit. Goal: refused or parsed in under a second.
// For comparison, the yaml package's own O(n²) duplicate-key check (`uniqueKeys: true`, used before) on
// the same text.
// Usage: npx tsx bench/config.ts [N...]   (default 1000 4000 10000)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, maxConfigBytes, parseConfig } from '../source/config/loadConfig.js';
import { yaml } from '../source/config/yamlDocument.js';
import { StigmerHome } from '../source/home/StigmerHome.js';

const home = new StigmerHome(mkdtempSync(path.join(tmpdir(), 'stigmer-bench-config-')), false);
const sizes = process.argv.slice(2).map(Number);
const envConfig = (n: number) => `agentRunner:\n  env:\n${Array.from({ length: n }, (_, i) => `    KEY_${i}: value-${i}\n`).join('')}`;

function measure(what: string, run: () => unknown): void {
	const wall = performance.now();
	const cpu = process.cpuUsage();
	let outcome = 'parsed';
	try {
		run();
	} catch (error) {
		outcome = `refused: ${(error as Error).message.split('\n')[0]}`;
	}
	const used = process.cpuUsage(cpu);
	console.log(`${what}: wall ${(performance.now() - wall).toFixed(0)} ms, CPU ${((used.user + used.system) / 1000).toFixed(0)} ms; ${outcome}`);
}

parseConfig(envConfig(100), 'warm-up', home);
for (const n of sizes.length > 0 ? sizes : [1000, 4000, 10000]) {
	const text = envConfig(n);
	measure(`${n} keys (${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB)`, () => parseConfig(text, 'config.yaml', home));
	measure(`   the same with yaml's uniqueKeys check`, () => yaml().parseDocument(text, { uniqueKeys: true }));
}
writeFileSync(home.configFile, envConfig(500_000));
measure(`500000 keys (10 MB file, limit ${maxConfigBytes / 1024} KiB)`, () => loadConfig(home));
rmSync(home.dir, { recursive: true, force: true });
