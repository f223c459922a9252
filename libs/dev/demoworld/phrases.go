package demoworld

// Ticket wording. Each scenario has subjects and core descriptions per
// language; the writer adds time, id and closing sentences around them.
// Placeholders: {order} {code} {status} {device} {user} {request} {item}
// {price} {month} {plan}.

type phrasebook struct {
	subjects []string
	bodies   []string
}

type bilingual struct{ ja, en phrasebook }

func (b bilingual) in(lang string) phrasebook {
	if lang == LangJapanese {
		return b.ja
	}
	return b.en
}

var (
	phrasesStorm = bilingual{
		ja: phrasebook{
			subjects: []string{"カード決済ができません", "【至急】クレジットカードが通りません", "会計でエラーが出ます", "決済が全部失敗します", "カードが使えない"},
			bodies: []string{
				"ディナーのピーク中ですが、カード決済がまったく通りません。何度やり直してもしばらく待たされたあとにエラーになります。",
				"お会計でカードを読み込むと、30秒くらい待ったあとに「決済に失敗しました」と表示されます。現金のお客様しか対応できていません。",
				"クレジットカードの決済ができず、レジに行列ができています。他の店舗でも起きていますか？",
				"タブレットで決済ボタンを押すとずっと読み込み中になり、最後にエラーになります。お客様をお待たせしています。",
				"カードもQRも決済が通らないです。いま満席で会計が回らないので、すぐに見てください。",
			},
		},
		en: phrasebook{
			subjects: []string{"Card payments failing", "URGENT: can't take card payments", "Payment error at checkout", "Credit cards not going through"},
			bodies: []string{
				"We're in the middle of dinner service and no card payment goes through. It spins for a long time and then fails.",
				"Every time we run a card at checkout it hangs for about 30 seconds and then says payment failed. We can only take cash right now.",
				"Customers are lining up at the register because credit cards keep failing. Is this happening to other restaurants too?",
				"Pressing Pay on the tablet just keeps loading and then shows an error. Please fix this ASAP, we're full tonight.",
			},
		},
	}
	phrasesPrinter = bilingual{
		ja: phrasebook{
			subjects: []string{"キッチンプリンターが印刷されない", "厨房に伝票が出てこない", "プリンターが何度も切断されます"},
			bodies: []string{
				"キッチンのプリンターから注文伝票が出てきません。タブレットでは注文が通っているのに厨房に届かないので、手書きで回しています。",
				"キッチンプリンターが数分おきに切断されるようです。ランプが消えたり点いたりを繰り返していて、伝票が出たり出なかったりします。",
			},
		},
		en: phrasebook{
			subjects: []string{"Kitchen printer not printing", "Orders not reaching the kitchen", "Printer keeps disconnecting"},
			bodies: []string{
				"Kitchen tickets aren't printing. Orders go through on the tablet but nothing comes out in the kitchen, so we're writing them by hand.",
				"The kitchen printer keeps disconnecting every few minutes; the light goes off and on and some tickets never print.",
			},
		},
	}
	phrasesPrinterFollowUp = bilingual{
		ja: phrasebook{
			subjects: []string{"Re: キッチンプリンターの件（まだ直りません）", "プリンターの不具合が続いています"},
			bodies: []string{
				"先ほど連絡したプリンターの件、まだ直っていません。電源を入れ直しても数分でまた印刷できなくなります。",
				"お昼からずっとキッチンプリンターが不安定です。再起動しても少しするとまた止まります。",
			},
		},
		en: phrasebook{
			subjects: []string{"Re: kitchen printer (still broken)", "Printer problem still happening"},
			bodies: []string{
				"Following up on the printer issue: still broken. Power-cycling helps for a few minutes, then it stops again.",
				"The kitchen printer has been flaky since lunch. It comes back after a restart and then dies again.",
			},
		},
	}
	phrasesMenu = bilingual{
		ja: phrasebook{
			subjects: []string{"メニューの変更が反映されない", "タブレットのメニューが更新されません", "メニュー同期エラー"},
			bodies: []string{
				"管理画面でメニューの価格を変更したのに、タブレットに反映されません。",
				"新しく追加したメニューがタブレットに出てきません。同期ボタンを何度か押しましたが変わりません。",
				"管理画面に「メニューの同期に失敗しました」と出ます。今日の日替わりメニューが出せなくて困っています。",
			},
		},
		en: phrasebook{
			subjects: []string{"Menu changes not showing up", "Tablet menu not updating", "Menu sync error"},
			bodies: []string{
				"I changed prices in the back office but the tablets still show the old menu.",
				"The new items we added don't appear on the tablets. We pressed sync several times, nothing changes.",
				"The back office says the menu sync failed. We can't put today's specials on the tablets.",
			},
		},
	}
	phrasesAuth = bilingual{
		ja: phrasebook{
			subjects: []string{"営業中に勝手にログアウトされる", "スタッフが何度もログアウトされます", "セッション切れのエラー"},
			bodies: []string{
				"営業中に突然ログアウトされて、PINを入れ直さないといけません。一日に何度も起きます。",
				"注文を入れようとしたら「セッションの有効期限が切れました」と出て、ログイン画面に戻されました。",
			},
		},
		en: phrasebook{
			subjects: []string{"Staff logged out during service", "Random logouts on the tablet", "Session expired error"},
			bodies: []string{
				"Staff get kicked out to the login screen in the middle of service and have to enter their PIN again. It happens several times a day.",
				"While entering an order the tablet said the session expired and went back to the login screen.",
			},
		},
	}
	phrasesCosmetic = bilingual{
		ja: phrasebook{
			subjects: []string{"注文画面の表示がおかしい", "注文画面の表示崩れ"},
			bodies: []string{
				"注文画面で長い商品名が途中で切れて表示されます。「…」になってしまい、どの商品か分かりにくいです。",
				"タブレットを横向きにすると、注文画面の合計金額の表示がボタンに重なって見えません。",
			},
		},
		en: phrasebook{
			subjects: []string{"Order screen display problem", "Order screen layout glitch"},
			bodies: []string{
				"Long item names are cut off on the order screen, so staff can't tell similar items apart.",
				"In landscape mode the order total overlaps the Pay button on the tablet.",
			},
		},
	}
)

// oneOffPhrases are the technical one-off tickets, keyed by the error code
// of the log they are about.
func oneOffPhrases(code string) bilingual {
	switch code {
	case CodeOrderDeadlock:
		return bilingual{
			ja: phrasebook{subjects: []string{"注文送信時にエラー", "注文が一度エラーになりました"}, bodies: []string{
				"注文を送信したらエラーになりました。もう一度送ったら通りましたが、二重になっていないか心配です。",
			}},
			en: phrasebook{subjects: []string{"Error when sending an order", "Order failed once"}, bodies: []string{
				"An order failed with an error when we sent it. Sending it again worked, but we're worried it's now duplicated.",
			}},
		}
	case CodeReceiptRender:
		return bilingual{
			ja: phrasebook{subjects: []string{"レシートが出ない", "会計後にエラー"}, bodies: []string{
				"カード決済は完了したのに、レシートが印刷されずエラーが出ました。",
			}},
			en: phrasebook{subjects: []string{"Receipt not printed", "Error after payment"}, bodies: []string{
				"The card payment went through but the receipt didn't come out and the tablet showed an error.",
			}},
		}
	case CodeLoyaltyLookup:
		return bilingual{
			ja: phrasebook{subjects: []string{"ポイントが付与されない", "ポイントカード読み取りエラー"}, bodies: []string{
				"ポイントカードを読み取ったらエラーになり、お客様にポイントが付きませんでした。",
			}},
			en: phrasebook{subjects: []string{"Loyalty points not added", "Loyalty card scan error"}, bodies: []string{
				"Scanning a loyalty card gave an error and the customer didn't get their points.",
			}},
		}
	case CodeRefundConflict:
		return bilingual{
			ja: phrasebook{subjects: []string{"返金ができません", "返金処理でエラー"}, bodies: []string{
				"返金処理をしようとしたらエラーになりました。お客様にまだ返金できていません。",
			}},
			en: phrasebook{subjects: []string{"Refund failed", "Error when refunding"}, bodies: []string{
				"We tried to refund an order and got an error. The customer hasn't been refunded yet.",
			}},
		}
	default: // CodeSessionStore
		return bilingual{
			ja: phrasebook{subjects: []string{"ログインできない時がある"}, bodies: []string{
				"スタッフがログインしようとしたらエラーになりました。少し待ってから再度試したら入れました。",
			}},
			en: phrasebook{subjects: []string{"Login error"}, bodies: []string{
				"A staff member got an error trying to log in. It worked after waiting a bit.",
			}},
		}
	}
}

// nonTechnical is a ticket that needs support staff, not an engineer.
type nonTechnical struct {
	component string
	severity  string
	// needs names what the wording uses: "user" (a staff id), "decline"
	// (a declined payment of the tenant), "" (nothing).
	needs string
	ja    phrasebook
	en    phrasebook
}

var nonTechnicalTickets = [...]nonTechnical{
	{ComponentOrder, SeverityP4, "", phrasebook{[]string{"割り勘の方法", "会計を分ける方法を教えてください"}, []string{
		"お会計を割り勘にする方法を教えてください。4人で別々に払いたいお客様がいました。",
	}}, phrasebook{[]string{"How to split a bill"}, []string{
		"How do I split a bill between several guests? A table of four wanted to pay separately.",
	}}},
	{ComponentOther, SeverityP4, "", phrasebook{[]string{"レシートの店舗情報を変えたい"}, []string{
		"レシートにお店の電話番号を載せたいのですが、どこで設定できますか？",
	}}, phrasebook{[]string{"Change receipt header"}, []string{
		"We'd like to print our phone number on receipts. Where is that setting?",
	}}},
	{ComponentAccount, SeverityP4, "", phrasebook{[]string{"新しいスタッフの登録", "スタッフPINの作成方法"}, []string{
		"来週から新しいアルバイトが入ります。スタッフのPINはどこで作成しますか？",
	}}, phrasebook{[]string{"Adding a new staff member"}, []string{
		"We have a new server starting next week. How do I create their PIN?",
	}}},
	{ComponentAccount, SeverityP4, "user", phrasebook{[]string{"退職したスタッフのアカウント削除"}, []string{
		"先月退職したスタッフ（{user}）のアカウントを削除してください。",
	}}, phrasebook{[]string{"Remove a former employee's account"}, []string{
		"Please deactivate the account of a server who left last month ({user}).",
	}}},
	{ComponentAccount, SeverityP4, "", phrasebook{[]string{"管理者メールアドレスの変更"}, []string{
		"店長が交代したので、管理画面のログイン用メールアドレスを変更したいです。",
	}}, phrasebook{[]string{"Change admin email"}, []string{
		"Our manager changed; we need to change the email address used for the back office login.",
	}}},
	{ComponentBilling, SeverityP4, "", phrasebook{[]string{"請求書が届いていません", "{month}分の請求書について"}, []string{
		"{month}分の請求書がまだ届いていません。再送をお願いできますか？",
	}}, phrasebook{[]string{"Missing invoice", "Invoice for {month}"}, []string{
		"We haven't received the invoice for {month}. Could you resend it?",
	}}},
	{ComponentBilling, SeverityP3, "", phrasebook{[]string{"請求金額が高い", "今月の請求額について"}, []string{
		"今月の請求額が先月より高いのですが、内訳を教えてください。タブレットの台数は変えていません。",
	}}, phrasebook{[]string{"Bill higher than usual"}, []string{
		"This month's bill is higher than last month's and we didn't add any tablets. Can you explain the charges?",
	}}},
	{ComponentBilling, SeverityP4, "", phrasebook{[]string{"プラン変更の相談", "{plan}プランへの変更"}, []string{
		"来月から{plan}プランに変更したいです。手続きと料金の違いを教えてください。",
	}}, phrasebook{[]string{"Plan change", "Switching to the {plan} plan"}, []string{
		"We'd like to switch to the {plan} plan from next month. What do we need to do and how much is it?",
	}}},
	{ComponentBilling, SeverityP4, "", phrasebook{[]string{"2号店の契約追加"}, []string{
		"来月2号店をオープンするので、契約を追加したいです。担当の方から連絡をいただけますか？",
	}}, phrasebook{[]string{"Adding a second location"}, []string{
		"We're opening a second location next month and need another contract. Can someone from sales contact us?",
	}}},
	{ComponentOther, SeverityP4, "", phrasebook{[]string{"機能要望：予約システム連携", "要望です"}, []string{
		"予約システムと連携できるようにしてほしいです。今は予約を手で入力していて手間がかかっています。",
	}}, phrasebook{[]string{"Feature request: reservations", "Suggestion"}, []string{
		"It would be great if the POS could connect to our reservation system. Right now we type reservations in by hand.",
	}}},
	{ComponentOther, SeverityP4, "", phrasebook{[]string{"売上レポートの要望"}, []string{
		"時間帯別の売上をCSVでダウンロードできるようにしてもらえませんか。",
	}}, phrasebook{[]string{"Sales report request"}, []string{
		"Could you add a CSV export of sales by hour? Our accountant keeps asking for it.",
	}}},
	{ComponentMenu, SeverityP3, "", phrasebook{[]string{"メニューの価格を間違えて登録しました", "【至急】価格の修正方法"}, []string{
		"「{item}」の価格を間違えて{price}で登録してしまいました。お客様に高く請求してしまったので、直し方と返金の方法を教えてください。",
	}}, phrasebook{[]string{"We entered a wrong price", "URGENT: how do I fix a price"}, []string{
		"We typed the price of \"{item}\" wrong ({price}) and a few guests were overcharged. How do I fix the item and refund them?",
	}}},
	{ComponentMenu, SeverityP4, "", phrasebook{[]string{"アレルギー表示の修正", "メニューの表示を直したい"}, []string{
		"「{item}」のアレルギー表示に卵を入れ忘れていました。自分で直せますか？",
	}}, phrasebook{[]string{"Fixing an allergen label"}, []string{
		"We forgot to list egg as an allergen for \"{item}\". Can we change that ourselves?",
	}}},
	{ComponentPrinter, SeverityP4, "", phrasebook{[]string{"プリンターの追加について", "2台目のプリンターを追加したい"}, []string{
		"ドリンク場にもう1台プリンターを置きたいのですが、設定方法を教えてください。",
	}}, phrasebook{[]string{"Adding a second printer", "Second printer setup"}, []string{
		"We want to add a second printer at the bar. How do we set it up?",
	}}},
	{ComponentCustomerID, SeverityP4, "", phrasebook{[]string{"ポイント会員の登録方法"}, []string{
		"お客様からポイントカードを作りたいと言われました。新規会員登録はどうやってやりますか？",
	}}, phrasebook{[]string{"How to sign up loyalty members"}, []string{
		"A guest asked to join our loyalty program. How do we register a new member?",
	}}},
	{ComponentPayment, SeverityP4, "decline", phrasebook{[]string{"お客様のカードが使えなかった", "カード決済が拒否されました"}, []string{
		"お客様のカードで決済しようとしたら「{code}」と出て通りませんでした。他のカードでは問題なく払えました。こちらの設定の問題でしょうか？",
	}}, phrasebook{[]string{"A guest's card was declined"}, []string{
		"A guest's card was refused with \"{code}\" on the screen. Another card worked fine. Is something wrong with our setup?",
	}}},
	{ComponentPayment, SeverityP3, "", phrasebook{[]string{"【至急】明日から使える決済方法", "電子マネーを使えるようにしたい"}, []string{
		"明日のイベントから交通系ICを使いたいのですが、今日中に設定できますか？",
	}}, phrasebook{[]string{"URGENT: enable contactless by tomorrow"}, []string{
		"We have an event tomorrow and need Apple Pay enabled. Can it be switched on today?",
	}}},
}

var (
	reporterSurnamesJa = [...]string{"佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田"}
	reporterRolesJa    = [...]string{"店長", "副店長", "ホール担当", "キッチン担当", "オーナー"}
	reporterNamesEn    = [...]string{"Mike Chen", "Sarah Kim", "Carlos Ruiz", "Emily Park", "Jason Wu", "Ana Lopez", "Tom Baker", "Priya Shah", "Kenji Mori"}
	reporterRolesEn    = [...]string{"manager", "owner", "shift lead", "server", "kitchen"}

	closingsJa = [...]string{"よろしくお願いします。", "至急確認をお願いします。", "", "ご確認ください。"}
	closingsEn = [...]string{"Thanks.", "Please help ASAP.", "", "Thank you!"}
)
