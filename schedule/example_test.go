package schedule_test

import (
	"fmt"
	"time"

	"github.com/latchd/latch/schedule"
)

func ExampleSchedule_Next() {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	start, _ := schedule.ParseTimeOfDay("08:00")
	end, _ := schedule.ParseTimeOfDay("18:00")
	days, _ := schedule.ParseDays([]string{"mon", "tue", "wed", "thu", "fri"})
	s, err := schedule.New(schedule.Config{
		Location: berlin,
		Keypad:   true,
		Windows:  []schedule.Window{{Days: days, Start: start, End: end, Mode: schedule.CardAndCode}},
		Exceptions: []schedule.Exception{
			{Date: schedule.Date{Year: 2026, Month: 12, Day: 24}, WholeDay: true, Mode: schedule.Locked},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2026, 12, 23, 12, 0, 0, 0, berlin)
	next := s.Next(now)
	fmt.Println(s.Mode(now), "until", next.In(berlin).Format("Mon 15:04"), "then", s.Mode(next))
	next2 := s.Next(next)
	fmt.Println(s.Mode(next), "until", next2.In(berlin).Format("Mon 15:04"), "then", s.Mode(next2))
	// Output:
	// card_and_code until Wed 18:00 then access_controlled
	// access_controlled until Thu 00:00 then locked
}
