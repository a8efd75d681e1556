// Who is here now (avatars; the assistant marked as such) and the connection and save state.

import type { SessionStatus } from '../sync'
import { initials, saveLabel, type Presence } from '../view'

export function StatusBar ({ status, presence }: { status: SessionStatus, presence: Presence[] }) {
  return (
    <div className="status-bar">
      <ul className="presence" aria-label="Here now">
        {presence.map((p) => (
          <li key={p.clientId} className={p.isAssistant ? 'avatar assistant' : 'avatar'} style={{ background: p.color }}
            title={p.isAssistant ? `${p.name} (assistant)` : p.isMe ? `${p.name} (you)` : p.name}
            aria-label={p.isAssistant ? `${p.name} (assistant)` : p.isMe ? `${p.name} (you)` : p.name}>
            {p.isAssistant ? '✦' : initials(p.name)}
          </li>
        ))}
      </ul>
      <p className={`save-state ${status.save}`} role="status" aria-live="polite" data-state={status.save}>
        {saveLabel(status.save, status.unsaved)}
      </p>
    </div>
  )
}
