import { allHandlersFinished, condition, continueAsNew, setHandler } from '@temporalio/workflow';
import { beginiEventSignal, journeyQuery, type JourneyInput, type JourneyView } from './definitions';
import { applyDelivery, startJourney, viewOf, type JourneyState } from './journeyState';
import { historyIsLong, publisher } from './publish';

/**
 * Records deliveries that arrive after a uid's journey has closed. It never decides: the journey
 * decided once already. It runs under the journey's own workflow ID (workflowIdFor), so operators
 * find it by uid, and it closes after a settle period with no new deliveries.
 */
export async function deliveriesAfterClose(input: JourneyInput & { carried?: JourneyState }): Promise<JourneyView> {
  const journey = input.carried ?? startJourney(input, new Date(), 'closed');
  const publish = publisher(journey);
  setHandler(beginiEventSignal, (delivery) => {
    applyDelivery(journey, delivery, new Date());
    publish();
  });
  setHandler(journeyQuery, () => viewOf(journey));
  publish();

  let seen = -1;
  while (seen !== journey.counts.deliveries) {
    if (historyIsLong()) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof deliveriesAfterClose>({ ...input, carried: journey });
    }
    seen = journey.counts.deliveries;
    await condition(() => journey.counts.deliveries !== seen || historyIsLong(), input.settings.settleMs);
  }
  await condition(allHandlersFinished);
  return viewOf(journey);
}
