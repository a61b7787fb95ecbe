// Error bodies in the shape Resource Manager and its providers answer with ({ error: { code, message } }).
import type { EmuResponse } from './types.js'

export function armError(status: number, code: string, message: string): EmuResponse {
  return { status, body: { error: { code, message } } }
}

/** ARM's own 404 for a resource that does not exist (as for a factory or a server). */
export function resourceNotFound(type: string, name: string, resourceGroup: string): EmuResponse {
  return armError(
    404,
    'ResourceNotFound',
    `The Resource '${type}/${name}' under resource group '${resourceGroup}' was not found. ` +
      'For more details please go to https://aka.ms/ARMResourceNotFoundFix'
  )
}

/** Answers for a conditional write whose If-Match does not hold, or undefined when it holds. */
export function ifMatchFailure(
  ifMatch: string | string[] | undefined,
  currentEtag: string | undefined
): EmuResponse | undefined {
  if (ifMatch === undefined) return undefined
  const wanted = (Array.isArray(ifMatch) ? ifMatch[0] : ifMatch)
    .replace(/^W\//, '')
    .replace(/"/g, '')
  if (currentEtag !== undefined && (wanted === '*' || wanted === currentEtag)) return undefined
  return armError(
    412,
    'PreconditionFailed',
    currentEtag === undefined
      ? 'The entity does not exist, so the If-Match precondition cannot be met.'
      : `The If-Match value '${wanted}' does not match the entity's current etag '${currentEtag}'.`
  )
}
