import { describe, expect, it } from '@jest/globals'
import { loadRecording } from '../contract/recordings.js'
import { postgresGroupId } from '../src/private-link.js'

describe('Private Link group ids', () => {
  it("is the group live Azure's private endpoint connection to a flexible server names", () => {
    const connection = loadRecording('azcli-postgresql_pec-get-approved.json').response.body as {
      properties: { groupIds: string[] }
    }
    expect(connection.properties.groupIds).toEqual([postgresGroupId])
  })
})
