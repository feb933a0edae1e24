/** Reply drafts per escalation in localStorage, so a session expiry or a reload loses nothing. */

export type DraftMode = 'reply' | 'note'

export interface Draft {
  text: string
  mode: DraftMode
}

const key = (escalationId: number) => `qclinic.console.draft.${escalationId}`

export function loadDraft(escalationId: number): Draft | null {
  try {
    const raw = localStorage.getItem(key(escalationId))
    return raw ? (JSON.parse(raw) as Draft) : null
  } catch {
    return null
  }
}

export function saveDraft(escalationId: number, draft: Draft): void {
  if (draft.text.trim()) localStorage.setItem(key(escalationId), JSON.stringify(draft))
  else localStorage.removeItem(key(escalationId))
}

export function clearDraft(escalationId: number): void {
  localStorage.removeItem(key(escalationId))
}
