export { beginiJourney } from './journey';
export { deliveriesAfterClose } from './afterClose';
