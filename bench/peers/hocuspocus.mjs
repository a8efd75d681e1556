// @hocuspocus/server for caravan-bench: in memory (no persistence extension), as started by
// `caravan-bench compare`. Prints "running" once it listens.
import { Server } from '@hocuspocus/server'

const server = new Server({ port: Number(process.env.PORT), address: '127.0.0.1', quiet: true, stopOnSignals: true })
await server.listen()
console.log('running')
