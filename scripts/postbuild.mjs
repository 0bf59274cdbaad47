// After tsc: dist/cli.js is package.json's bin, so it must be executable in a checkout too
// (tsc keeps its `#!/usr/bin/env node` line but writes files 644).
import { chmodSync } from 'node:fs';

chmodSync(new URL('../dist/cli.js', import.meta.url), 0o755);
