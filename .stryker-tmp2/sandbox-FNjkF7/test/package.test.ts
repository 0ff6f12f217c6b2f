/**
 * The package as people get it: what `npm pack` ships, and a consumer that
 * installs the tarball into an empty folder, type-checks the README's
 * "Library API" block (strict, `module: nodenext`) with every name the
 * README imports from `stapflow` and `stapflow/testing`, and imports them
 * all at run time. Uses the built dist/ (npm test builds first); packs with
 * --ignore-scripts so the suite's dist/ is not rebuilt under running tests.
 * Offline: the tarball is unpacked into node_modules/stapflow and its
 * dependencies are linked from this checkout's node_modules.
 */
// @ts-nocheck


import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
};
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
/** Heavy (ws, superjson) and needed only by `stap-remote --inspect`: left out of the consumer's node_modules. */
const OPTIONAL_AT_RUN_TIME = '@statelyai/inspect';

interface PackFile {
  readonly path: string;
}

let work: string;
let packed: readonly string[];
let tarball: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'stapflow-pack-'));
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [report] = JSON.parse(out) as [{ filename: string; files: PackFile[] }];
  packed = report.files.map((f) => f.path).sort();
  tarball = join(work, report.filename);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Every `import { … } from 'SPEC'` in the README's code blocks, as [name, isType]. */
function readmeImports(spec: string): [string, boolean][] {
  const names = new Map<string, boolean>();
  const re = new RegExp(`import\\s*\\{([^}]*)\\}\\s*from\\s*'${spec.replace('/', '\\/')}'`, 'g');
  for (const m of README.matchAll(re)) {
    for (const raw of m[1]!.split(',')) {
      const word = raw.trim();
      if (word === '') continue;
      const isType = word.startsWith('type ');
      names.set(word.replace(/^type\s+/, ''), isType);
    }
  }
  return [...names];
}

describe('npm pack', () => {
  it('ships exactly: dist/, bin/, deploy/, docs/, examples/, LICENSE, README.md, package.json', () => {
    expect([...new Set(packed.map((p) => p.split('/')[0]))].sort()).toEqual(
      ['LICENSE', 'README.md', 'bin', 'deploy', 'dist', 'docs', 'examples', 'package.json'].sort(),
    );
    for (const bin of Object.values(pkg.bin)) expect(packed).toContain(bin);
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/testing.js', 'dist/testing.d.ts', 'dist/cli/common/launch.js']) expect(packed).toContain(f);
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
  });

  it('no source maps, no TypeScript sources, no tests, no stale build output', () => {
    expect(packed.filter((p) => p.endsWith('.map'))).toEqual([]);
    expect(packed.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))).toEqual([]);
    // Each dist file comes from a source that still exists (dist/ is rebuilt clean).
    const stale = packed.filter((p) => p.startsWith('dist/') && p.endsWith('.js') && !existsSync(join(ROOT, p.slice('dist/'.length).replace(/\.js$/, '.ts'))));
    expect(stale).toEqual([]);
  });

  it('ships every docs/ file a help text or the README cites', () => {
    const cited = new Set<string>();
    const sources = [README, ...listTs(join(ROOT, 'cli')).map((f) => readFileSync(f, 'utf8'))];
    for (const text of sources) for (const m of text.matchAll(/\bdocs\/[\w.-]+\.md\b/g)) cited.add(m[0]);
    expect(cited).toContain('docs/trace-format.md');
    for (const doc of cited) expect(packed).toContain(doc);
  });

  it('builds in prepack, never in a consumer install (no prepare/postinstall)', () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.prepack).toBe('npm run build');
    expect(scripts.prepare).toBeUndefined();
    expect(scripts.postinstall).toBeUndefined();
    expect(scripts.install).toBeUndefined();
  });
});

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listTs(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('a consumer of the packed tarball', () => {
  let consumer: string;

  beforeAll(() => {
    consumer = join(work, 'consumer');
    const modules = join(consumer, 'node_modules');
    mkdirSync(join(modules, 'stapflow'), { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', join(modules, 'stapflow'), '--strip-components=1'], { timeout: 30_000 });
    // The dependencies as npm would install them, linked from this checkout (no network);
    // all but @statelyai/inspect, which the programs must import only for --inspect.
    for (const dep of [...Object.keys(pkg.dependencies).filter((d) => d !== OPTIONAL_AT_RUN_TIME), '@types/node']) {
      mkdirSync(dirname(join(modules, dep)), { recursive: true });
      symlinkSync(realpathSync(join(ROOT, 'node_modules', dep)), join(modules, dep));
    }
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: ['node'], skipLibCheck: true },
        include: ['*.ts'],
      }),
    );
  });

  it("type-checks the README's Library API block and every name the README imports", () => {
    const section = README.slice(README.indexOf('## Library API'));
    const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(block).toBeDefined();
    writeFileSync(join(consumer, 'readme.ts'), block!);
    const lines: string[] = [];
    for (const spec of ['stapflow', 'stapflow/testing']) {
      const names = readmeImports(spec);
      expect(names.length).toBeGreaterThan(0);
      lines.push(`import { ${names.map(([n, t]) => (t ? `type ${n}` : n)).join(', ')} } from '${spec}';`);
      for (const [n, t] of names) lines.push(t ? `export type Used_${n} = ${n};` : `export const used_${n} = ${n};`);
    }
    writeFileSync(join(consumer, 'names.ts'), `${lines.join('\n')}\n`);
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    let output = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', consumer], { cwd: consumer, encoding: 'utf8', timeout: 120_000 });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    expect(output).toBe('');
  });

  it('imports every README name at run time, the version and both entry points resolving from the package', () => {
    const imports = ['stapflow', 'stapflow/testing'].map((spec) => {
      const values = readmeImports(spec).filter(([, t]) => !t).map(([n]) => n);
      return `import { ${values.join(', ')} } from '${spec}';\nfor (const [n, v] of Object.entries({ ${values.join(', ')} })) if (typeof v !== 'function' && typeof v !== 'object') throw new Error(n);`;
    });
    writeFileSync(
      join(consumer, 'run.mjs'),
      `${imports.join('\n')}\nimport { createRequire } from 'node:module';\nconsole.log(createRequire(import.meta.url)('stapflow/package.json').version);\n`,
    );
    const out = execFileSync(process.execPath, [join(consumer, 'run.mjs')], { cwd: consumer, encoding: 'utf8', timeout: 30_000 });
    expect(out).toBe(`${pkg.version}\n`);
  });

  it('runs the packed bins, stap-remote without @statelyai/inspect installed (imported only for --inspect)', () => {
    const bin = (name: string) => join(consumer, 'node_modules', 'stapflow', pkg.bin[name]!);
    expect(existsSync(join(consumer, 'node_modules', OPTIONAL_AT_RUN_TIME))).toBe(false);
    expect(execFileSync(process.execPath, [bin('stap-remote'), '--version'], { encoding: 'utf8', timeout: 30_000 })).toBe(`${pkg.version}\n`);
    for (const name of Object.keys(pkg.bin)) {
      expect(execFileSync(process.execPath, [bin(name), '-V'], { encoding: 'utf8', timeout: 30_000 })).toBe(`${pkg.version}\n`);
    }
    expect(execFileSync(process.execPath, [bin('stapsh-trace'), '--help'], { encoding: 'utf8', timeout: 30_000 })).toContain('docs/trace-format.md');
  });
});
