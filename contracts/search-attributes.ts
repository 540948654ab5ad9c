import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Registered on the dev server by the local stack (`--search-attribute Name=Keyword`).
// Never put customer data or secrets here: search attributes are not encrypted by a payload codec.
export const DrScenario = defineSearchAttributeKey('DrScenario', SearchAttributeType.KEYWORD);
export const DrEnvironment = defineSearchAttributeKey('DrEnvironment', SearchAttributeType.KEYWORD);
export const DrIncidentId = defineSearchAttributeKey('DrIncidentId', SearchAttributeType.KEYWORD);
/** starting | running | waiting-for-approval | compensating, then the verdict (completed, failed, aborted, …). */
export const DrStatus = defineSearchAttributeKey('DrStatus', SearchAttributeType.KEYWORD);
