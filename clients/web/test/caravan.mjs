// A real caravan process for the web client's tests: started on a free port with its data in
// a temporary directory, stopped with SIGTERM and its data removed.

import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
/** The caravan binary: `CARAVAN_BIN`, else the workspace's debug build. */
export const BIN = process.env.CARAVAN_BIN ?? resolve(here, '../../../target/debug/caravan')

/** Starts `caravan serve` with `args` added; resolves once it listens, to `{ url, stop }`. */
export async function startCaravan (args = []) {
  const dataDir = mkdtempSync(join(tmpdir(), 'caravan-web-'))
  const child = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--data', join(dataDir, 'db'), ...args], {
    env: { ...process.env, NO_COLOR: '1', RUST_LOG: process.env.RUST_LOG ?? 'warn,sync_server=info' }
  })
  let out = ''
  const address = await new Promise((resolve, reject) => {
    const on = (c) => { out += c; const m = /listen=(127\.0\.0\.1:\d+)/.exec(out); if (m) resolve(m[1]) }
    child.stdout.on('data', on)
    child.stderr.on('data', on)
    child.on('exit', () => reject(new Error(`caravan exited:\n${out}`)))
  })
  return {
    url: `http://${address}`,
    async stop () {
      child.kill('SIGTERM')
      await new Promise((r) => child.on('exit', r))
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
}
