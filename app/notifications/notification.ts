/** Notifications as the portal's pages and JSON API return them. Client-safe. */

export type NotificationType =
  | 'shipment_shipped'
  | 'shipment_delivered'
  | 'prescription_approved'
  | 'appointment_reminder'
  | 'message_received'
  | 'refill_upcoming'
  | 'appointment_booked'
  | 'appointment_rescheduled'
  | 'appointment_cancelled';

export interface PatientNotification {
  id: string;
  /** One of NotificationType; rows from the integration service may carry others. */
  type: string;
  title: string;
  body: string;
  /** Portal path of the page the notification concerns, e.g. `/shipments`. */
  link: string;
  createdAt: string;
  readAt: string | null;
}

export interface NotificationPage {
  notifications: PatientNotification[];
  /** Pass back as `cursor` for the next, older page; null on the last page. */
  nextCursor: string | null;
  unreadCount: number;
}

/** Notifications per page of the feed. */
export const NOTIFICATION_PAGE_SIZE = 20;
