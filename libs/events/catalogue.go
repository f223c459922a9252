package events

// Streams that hold the events; bus creates them from Kinds.
const (
	// StreamSubmissions holds accepted tickets apart from the later events,
	// so intake's acknowledgement never waits behind the pipeline's own
	// writes.
	StreamSubmissions = "SUBMISSIONS"
	// StreamTickets holds every ticket event after submission.
	StreamTickets = "TICKETS"
	// StreamBugs holds bug events by fingerprint.
	StreamBugs = "BUGS"
)

// Kind is one event type of the messaging contract: its CloudEvents type,
// the subject prefix it is published under (the last token is the ticket id
// or bug fingerprint) and the stream that keeps it.
type Kind struct {
	Type    string
	Subject string
	Stream  string
}

// Kinds lists every event the project publishes. A new event type is added
// here, and only here: streams take their subjects from this list, and the
// contract tests publish every entry.
func Kinds() []Kind {
	return []Kind{
		{TypeTicketSubmitted, SubjectSubmitted, StreamSubmissions},
		{TypeTicketEnriched, SubjectEnriched, StreamTickets},
		{TypeLogsPending, SubjectLogsPending, StreamTickets},
		{TypeTicketRouted, SubjectRouted, StreamTickets},
		{TypeTicketClaimed, SubjectClaimed, StreamTickets},
		{TypeTicketReleased, SubjectReleased, StreamTickets},
		{TypeTicketReassigned, SubjectReassigned, StreamTickets},
		{TypeTicketStatusChanged, SubjectStatusChanged, StreamTickets},
		{TypeTicketCommented, SubjectCommented, StreamTickets},
		{TypeTicketRerouted, SubjectRerouted, StreamTickets},
		{TypeTicketBugConfirmed, SubjectBugConfirmed, StreamTickets},
		{TypeTicketLogsViewed, SubjectLogsViewed, StreamTickets},
		{TypeTicketSLABreached, SubjectSLABreached, StreamTickets},
		{TypeTicketBugUpdated, SubjectBugUpdated, StreamTickets},
		{TypeTicketIncidentChanged, SubjectIncidentChanged, StreamTickets},
		{TypeBugConfirmed, SubjectConfirmed, StreamBugs},
		{TypeBugFiled, SubjectFiled, StreamBugs},
		{TypeBugClosed, SubjectClosed, StreamBugs},
		{TypeBugReopened, SubjectReopened, StreamBugs},
		{TypeBugFailed, SubjectFailed, StreamBugs},
	}
}
