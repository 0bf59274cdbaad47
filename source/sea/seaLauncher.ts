// The single executable's main script (Node's single executable applications; scripts/build-binary.mjs).
// The executable carries the npm package as installed (dist/, its production node_modules, docker/ and
// agent-runner/) as one compressed asset. On its first run it unpacks it into the user's cache
// ($XDG_CACHE_HOME/stigmer/app/<key>, else ~/.cache/...; STIGMER_APP_CACHE overrides), atomically, then
// runs the CLI from there as npm's install would: every later run finds the directory and loads the same
// files, with the same compile cache. The executable is also the Node that runs the package's own child
// scripts: a first argument that is a .js file of the unpacked package (the supervisor, started by
// SupervisorClient with process.execPath) runs that script, as `node script.js` would.
// Bundled by esbuild into one CommonJS file, as SEA requires; Node built-ins only.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import path from 'node:path';
import { getAsset, isSea } from 'node:sea';
import { brotliDecompressSync } from 'node:zlib';

/** One file of the archive: its path in the package, mode, and where its bytes are in the data. */
export type ArchiveEntry = [name: string, mode: number, offset: number, size: number];

/** The archive: a 4-byte big-endian index length, the index (JSON ArchiveEntry[]), then the files' bytes. */
export function unpack(archive: Buffer, into: string): void {
	const indexLength = archive.readUInt32BE(0);
	const index = JSON.parse(archive.subarray(4, 4 + indexLength).toString('utf8')) as ArchiveEntry[];
	const data = 4 + indexLength;
	const made = new Set<string>(); // one mkdir per directory, not per file (the files are 2,900)
	for (const [name, mode, offset, size] of index) {
		const file = path.join(into, name);
		const dir = path.dirname(file);
		if (!made.has(dir)) {
			mkdirSync(dir, { recursive: true });
			made.add(dir);
		}
		writeFileSync(file, archive.subarray(data + offset, data + offset + size), { mode });
	}
}

export function appCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
	if (env.STIGMER_APP_CACHE) return env.STIGMER_APP_CACHE;
	const xdg = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(env.HOME || homedir(), '.cache');
	return path.join(xdg, 'stigmer', 'app');
}

/** The unpacked package's directory, unpacked now when it is not there yet. */
function unpackedApp(): string {
	const key = getAsset('key', 'utf8');
	const dir = path.join(appCacheRoot(), key);
	if (existsSync(path.join(dir, 'package.json'))) return dir;
	const partial = `${dir}.partial-${process.pid}`;
	try {
		rmSync(partial, { recursive: true, force: true });
		unpack(brotliDecompressSync(Buffer.from(getAsset('app'))), partial);
		mkdirSync(path.dirname(dir), { recursive: true });
		renameSync(partial, dir);
	} catch (error) {
		rmSync(partial, { recursive: true, force: true });
		// another run unpacked it meanwhile (rename onto a non-empty directory fails): use theirs
		if (!existsSync(path.join(dir, 'package.json'))) {
			process.stderr.write(`stigmer: cannot unpack into ${dir}: ${(error as Error).message}\nfix: make ${appCacheRoot()} writable, or set STIGMER_APP_CACHE to a writable directory\n`);
			process.exit(1);
		}
	}
	return dir;
}

function launch(): void {
	const dir = unpackedApp();
	const script = process.argv[2];
	if (script?.endsWith('.js') && path.isAbsolute(script) && script.startsWith(dir + path.sep)) {
		// `<executable> <script.js> args…` as `node <script.js> args…`: argv[1] is the script
		process.argv.splice(1, 1);
		createRequire(script)(script);
		return;
	}
	const load = createRequire(path.join(dir, 'dist', 'cli.js'));
	(load('./compileCache.js') as typeof import('../compileCache.js')).enableCompileCache();
	(load('./runCli.js') as typeof import('../runCli.js')).runCli(process.argv.slice(2));
}

if (isSea()) launch();
