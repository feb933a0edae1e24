/** An entry's payload as form fields and back: string lists as one-per-line text, sub-records as
 * rows. knowledge/schema.py is the source of the fields; the API validates the result. */

import type { Kind } from './api'

export interface SourceRow {
  code: string
  title: string
  effective: string
  withdrawn: string
}
export interface QualificationRow {
  kind: string
  number: string
  scope: string
}
export interface CapabilityRow {
  service_id: string
  products: string
  items: string
  standards: string
}
export interface ContactForm {
  phone: string
  email: string
  person: string
}

/** every kind's fields in one place; a kind sends only its own (see payloadOf) */
export interface EntryForm {
  id: string
  title: string
  owner: string
  review_due: string
  keywords: string
  sources: SourceRow[]
  // faq
  answer: string
  variants: string
  // faq (optional), service (required)
  clause: string
  // service
  domain: string
  acceptance_conditions: string
  materials: string
  process: string
  commitment: string
  example_queries: string
  // service, institution, station
  description: string
  // institution, station
  type: string
  region: string
  address: string
  hours: string
  contact: ContactForm
  // institution
  qualifications: QualificationRow[]
  capabilities: CapabilityRow[]
  service_modes: string[]
  rating: number
  // station
  services: string[]
  // standard (the standards table, §6.2.2)
  code: string
  validity: string
  effective: string
  withdrawn: string
  replaced_by: string
  note: string
}

/** the fields each kind's form shows (top-level names of the API's field paths) */
export const KIND_FIELDS: Record<Kind, string[]> = {
  faq: ['answer', 'variants', 'clause'],
  service: ['domain', 'clause', 'description', 'acceptance_conditions', 'materials', 'process', 'commitment', 'example_queries'],
  institution: ['type', 'qualifications', 'capabilities', 'region', 'address', 'service_modes', 'hours', 'rating', 'contact', 'description'],
  station: ['type', 'region', 'address', 'hours', 'services', 'contact', 'description'],
  standard: ['code', 'validity', 'effective', 'withdrawn', 'replaced_by', 'note'],
}
export const COMMON_FIELDS = ['id', 'title', 'owner', 'review_due', 'keywords', 'sources']

const lines = (text: string) => text.split('\n').map((s) => s.trim()).filter(Boolean)
const text = (value: unknown) => (Array.isArray(value) ? value.map(String).join('\n') : '')
const str = (value: unknown) => (value === null || value === undefined ? '' : String(value))
const rows = (value: unknown) => (Array.isArray(value) ? (value as Record<string, unknown>[]) : [])
const optional = (value: string) => value.trim() || null

export const emptySource = (): SourceRow => ({ code: '', title: '', effective: '', withdrawn: '' })
export const emptyQualification = (): QualificationRow => ({ kind: '', number: '', scope: '' })
export const emptyCapability = (): CapabilityRow => ({ service_id: '', products: '', items: '', standards: '' })

export function formOf(payload: Record<string, unknown>): EntryForm {
  const contact = (payload.contact ?? {}) as Record<string, unknown>
  return {
    id: str(payload.id),
    title: str(payload.title),
    owner: str(payload.owner),
    review_due: str(payload.review_due),
    keywords: text(payload.keywords),
    sources: rows(payload.sources).map((s) => ({
      code: str(s.code),
      title: str(s.title),
      effective: str(s.effective),
      withdrawn: str(s.withdrawn),
    })),
    answer: str(payload.answer),
    variants: text(payload.variants),
    clause: str(payload.clause),
    domain: str(payload.domain),
    acceptance_conditions: text(payload.acceptance_conditions),
    materials: text(payload.materials),
    process: text(payload.process),
    commitment: str(payload.commitment),
    example_queries: text(payload.example_queries),
    description: str(payload.description),
    type: str(payload.type),
    region: str(payload.region),
    address: str(payload.address),
    hours: str(payload.hours),
    contact: { phone: str(contact.phone), email: str(contact.email), person: str(contact.person) },
    qualifications: rows(payload.qualifications).map((q) => ({ kind: str(q.kind), number: str(q.number), scope: text(q.scope) })),
    capabilities: rows(payload.capabilities).map((c) => ({
      service_id: str(c.service_id),
      products: text(c.products),
      items: text(c.items),
      standards: text(c.standards),
    })),
    service_modes: Array.isArray(payload.service_modes) ? payload.service_modes.map(String) : [],
    rating: typeof payload.rating === 'number' ? payload.rating : 0,
    services: Array.isArray(payload.services) ? payload.services.map(String) : [],
    code: str(payload.code),
    validity: str(payload.validity),
    effective: str(payload.effective),
    withdrawn: str(payload.withdrawn),
    replaced_by: str(payload.replaced_by),
    note: str(payload.note),
  }
}

/** the payload the API validates: the common fields and the kind's own */
export function payloadOf(form: EntryForm, kind: Kind, status: string): Record<string, unknown> {
  const base: Record<string, unknown> = {
    kind,
    id: form.id.trim(),
    title: form.title,
    owner: form.owner,
    review_due: form.review_due,
    keywords: lines(form.keywords),
    status,
    sources: form.sources.map((s) => ({
      code: s.code,
      title: s.title,
      effective: optional(s.effective),
      withdrawn: optional(s.withdrawn),
    })),
  }
  const contact = { phone: form.contact.phone, email: optional(form.contact.email), person: optional(form.contact.person) }
  if (kind === 'faq') {
    return { ...base, answer: form.answer, variants: lines(form.variants), clause: optional(form.clause) }
  }
  if (kind === 'service') {
    return {
      ...base,
      domain: form.domain,
      clause: form.clause,
      description: form.description,
      acceptance_conditions: lines(form.acceptance_conditions),
      materials: lines(form.materials),
      process: lines(form.process),
      commitment: form.commitment,
      example_queries: lines(form.example_queries),
    }
  }
  if (kind === 'standard') {
    return {
      ...base,
      code: form.code.trim(),
      validity: form.validity,
      effective: optional(form.effective ?? ''),
      withdrawn: optional(form.withdrawn ?? ''),
      replaced_by: optional(form.replaced_by),
      note: optional(form.note),
    }
  }
  const place = { type: form.type, region: form.region, address: form.address, hours: form.hours, contact, description: form.description }
  if (kind === 'station') return { ...base, ...place, services: form.services }
  return {
    ...base,
    ...place,
    qualifications: form.qualifications.map((q) => ({ kind: q.kind, number: q.number, scope: lines(q.scope) })),
    capabilities: form.capabilities.map((c) => ({
      service_id: c.service_id,
      products: lines(c.products),
      items: lines(c.items),
      standards: lines(c.standards),
    })),
    service_modes: form.service_modes,
    rating: form.rating,
  }
}

/** a field's errors: `exact` for a row or a list as a whole, else the field and everything under it */
export type ErrorOf = (path: string, exact?: boolean) => string
