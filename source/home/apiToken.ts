// The bearer token of the agent-runner API, a file in the home (run/api-token, 0600): generated at the
// first start, read by every client of the API.
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { UserError, errorMessage } from '../errors.js';
import { writeFileAtomic } from './atomicFile.js';
import type { StigmerHome } from './StigmerHome.js';

/** The bearer token of the agent-runner API, generated at first start (0600). */
export function ensureApiToken(home: StigmerHome): string {
	try {
		const token = readFileSync(home.apiTokenFile, 'utf8').trim();
		if (token) {
			if ((statSync(home.apiTokenFile).mode & 0o077) !== 0) chmodSync(home.apiTokenFile, 0o600);
			return token;
		}
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new UserError(`cannot read ${home.apiTokenFile}: ${errorMessage(error)}`);
	}
	const token = randomBytes(32).toString('hex');
	writeFileAtomic(home.apiTokenFile, `${token}\n`, 0o600);
	return token;
}
