// Node's module compile cache, per user. V8's compiled code of every module the CLI loads is kept on
// disk and reused by the next run (docs/architecture.md, "Start-up"). Node's default directory,
// os.tmpdir()/node-compile-cache, is one for all users: made by root first (mode 0755), it refused every
// other user ("permission denied": no cache at all for a user in the docker group), and made by another
// user first, it would hand us code that user wrote. So the directory is the user's own:
// $XDG_CACHE_HOME/stigmer/node-compile-cache, else ~/.cache/stigmer/node-compile-cache, and it is not
// used when it belongs to someone else. Nothing here ever stops the CLI: a directory that cannot be made
// or written only means no cache. NODE_COMPILE_CACHE (a directory of the user's choosing, enabled by Node
// before any code runs) and NODE_DISABLE_COMPILE_CACHE=1 work as Node documents them.
import { statSync } from 'node:fs';
import module from 'node:module';
import path from 'node:path';

/** The user's compile-cache directory, or null when no home or cache directory is known. */
export function compileCacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
	const xdg = env.XDG_CACHE_HOME;
	const base = xdg && path.isAbsolute(xdg) ? xdg : env.HOME && path.isAbsolute(env.HOME) ? path.join(env.HOME, '.cache') : null;
	return base ? path.join(base, 'stigmer', 'node-compile-cache') : null;
}

export interface CompileCacheResult {
	/** `enabled` (this run reads and writes it), `already` (NODE_COMPILE_CACHE), `disabled`, `failed`, `off` */
	status: 'enabled' | 'already' | 'disabled' | 'failed' | 'off';
	directory?: string;
	message?: string;
}

/** Turns the compile cache on in the user's own directory; never throws. */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): CompileCacheResult {
	const directory = compileCacheDir(env);
	if (!directory || typeof module.enableCompileCache !== 'function') return { status: 'off' };
	try {
		const uid = process.getuid?.();
		const owner = statOwner(directory);
		if (uid !== undefined && owner !== null && owner !== uid) return { status: 'off', message: `${directory} belongs to uid ${owner}` };
		const result = module.enableCompileCache(directory);
		const { ENABLED, ALREADY_ENABLED, DISABLED } = module.constants.compileCacheStatus;
		const status = result.status === ENABLED ? 'enabled' : result.status === ALREADY_ENABLED ? 'already' : result.status === DISABLED ? 'disabled' : 'failed';
		return { status, ...(result.directory ? { directory: result.directory } : {}), ...(result.message ? { message: result.message } : {}) };
	} catch (error) {
		return { status: 'failed', message: (error as Error).message };
	}
}

function statOwner(directory: string): number | null {
	try {
		return statSync(directory).uid;
	} catch {
		return null; // not made yet: Node makes it (with its parents) as this user
	}
}
